import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Payload, QueueHandler, QueueKeys } from 'nest-redis-broker';
import { waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const batches: number[][] = [];
const bodies = [1, 2, 3, 4, 5].map((n) => JSON.stringify({ n }));
const suspect = bodies[2];

@Injectable()
class SuspiciousHandler {
  @QueueHandler('suspects', { batch: { size: 10, maxWaitMs: 50 } })
  load(@Payload() items: { n: number }[]): void {
    batches.push(items.map((i) => i.n));
  }
}

describe('a batch handler and a message that already killed a consumer', () => {
  const broker = useBrokerApp({}, [SuspiciousHandler], {
    beforeBoot: async ({ plain }) => {
      // As the reaper records it: one consumer died while running this message (sha1 of its bytes).
      await plain.hset(new QueueKeys('suspects', '').deaths, createHash('sha1').update(suspect).digest('hex'), 1);
      await plain.lpush('suspects', ...bodies);
    },
  });

  it('runs that message alone, as a batch of one, and the others together', async () => {
    await waitForQueuesIdle(broker.redis.url, ['suspects'], { timeoutMs: 10_000 });
    expect(batches).toContainEqual([3]);
    expect(batches.flat().sort()).toEqual([1, 2, 3, 4, 5]);
    for (const batch of batches) if (batch.includes(3)) expect(batch).toEqual([3]);
  });
});
