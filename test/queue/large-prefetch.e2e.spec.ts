import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { QueueHandler } from 'nest-redis-broker';
import { startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, type CapturingLogger } from '../support/broker-app.js';

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
  let redis: RedisServerHandle;
  let plain: Redis;
  let app: INestApplicationContext;
  let logger: CapturingLogger;

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    await plain.lpush('deep', ...Array.from({ length: BACKLOG }, (_, id) => JSON.stringify({ id })));
    ({ app, logger } = await bootBroker({ connection: { url: redis.url } }, [CountingHandler]));
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  it('fetches thousands of messages in one go, records those not started as waiting, and handles them all', { timeout: 150_000 }, async () => {
    await waitFor(() => handled.size === BACKLOG || /could not fetch/.test(logger.text()), {
      timeoutMs: 120_000,
      intervalMs: 100,
      description: 'every message to be handled, or a fetch to fail',
    });
    expect(logger.text()).not.toMatch(/could not fetch/);
    expect(handled.size).toBe(BACKLOG);
    await waitForQueuesIdle(redis.url, ['deep'], { timeoutMs: 30_000 });
  });
});
