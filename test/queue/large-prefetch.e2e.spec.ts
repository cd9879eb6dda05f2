import { Injectable } from '@nestjs/common';
import { QueueHandler } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

/** More waiting messages in one fetch than Lua's unpack() takes at once (about 8,000 values, two per message). */
const BACKLOG = 4_500;
const handled = new Set<number>();

@Injectable()
class CountingHandler {
  @QueueHandler('deep', { concurrency: 1, prefetch: BACKLOG })
  handle(payload: { id: number }): void {
    handled.add(payload.id);
  }
}

describe('a reliable queue with a prefetch window in the thousands', () => {
  const broker = useBrokerApp({}, [CountingHandler], {
    beforeBoot: ({ plain }) => plain.lpush('deep', ...Array.from({ length: BACKLOG }, (_, id) => JSON.stringify({ id }))),
  });

  it('fetches thousands of messages in one go, records those not started as waiting, and handles them all', { timeout: 150_000 }, async () => {
    await waitFor(() => handled.size === BACKLOG || /could not fetch/.test(broker.logger.text()), {
      timeoutMs: 120_000,
      intervalMs: 100,
      description: 'every message to be handled, or a fetch to fail',
    });
    expect(broker.logger.text()).not.toMatch(/could not fetch/);
    expect(handled.size).toBe(BACKLOG);
    await waitForQueuesIdle(broker.redis.url, ['deep'], { timeoutMs: 30_000 });
  });
});
