import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { NonRetryableError, QueueDeadLetterService, QueueHandler, QueueKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

/** More than Lua's unpack() takes at once (about 8,000 values). */
const BACKLOG = 12_000;
const CAP = 100;
const MAX_DEATHS = 3;

@Injectable()
class RejectingHandlers {
  @QueueHandler('orders', { maxAttempts: 1 })
  order(payload: { id: string }): void {
    throw new NonRetryableError(`order ${payload.id} does not exist`);
  }

  @QueueHandler('poisoned', { maxDeaths: MAX_DEATHS })
  poisoned(): void {}
}

/** Stores `count` dead letters the way an app running without a cap left them (ids backlog-0.., oldest first). */
async function storeDeadBacklog(plain: Redis, keys: QueueKeys, count: number): Promise<void> {
  for (let from = 0; from < count; from += 1_000) {
    const pipeline = plain.pipeline();
    for (let i = from; i < Math.min(count, from + 1_000); i += 1) {
      const id = `backlog-${i}`;
      pipeline.zadd(keys.deadIndex, 1_000 + i, id);
      pipeline.hset(keys.deadRecords, id, JSON.stringify({ id, queue: keys.queue, reason: 'max-attempts', error: 'old', attempts: 3, consumer: 'old', failedAt: 1_000 + i }));
      pipeline.hset(keys.deadMessages, id, JSON.stringify({ id: i }));
    }
    await pipeline.exec();
  }
}

async function deadCounts(plain: Redis, keys: QueueKeys): Promise<[number, number, number]> {
  return [await plain.zcard(keys.deadIndex), await plain.hlen(keys.deadRecords), await plain.hlen(keys.deadMessages)];
}

describe('deadLetterMaxEntries turned on over a large dead-letter backlog', () => {
  const broker = useBrokerApp(
    { deadLetterMaxEntries: CAP, heartbeatIntervalMs: 100, consumerTtlMs: 1_000 },
    [RejectingHandlers],
    {
      // Both queues already hold their backlog when the app starts with the cap.
      beforeBoot: async ({ plain }) => {
        await storeDeadBacklog(plain, new QueueKeys('orders', ''), BACKLOG);
        await storeDeadBacklog(plain, new QueueKeys('poisoned', ''), BACKLOG);
      },
    },
  );

  it('drops the oldest down to the cap when a handler dead-letters a message, records and bodies with them', async () => {
    const keys = new QueueKeys('orders', '');
    await broker.plain.lpush('orders', JSON.stringify({ id: 'new' }));
    await waitForQueuesIdle(broker.redis.url, ['orders'], { timeoutMs: 30_000 });

    expect(await deadCounts(broker.plain, keys)).toEqual([CAP, CAP, CAP]);
    const newestFirst = await broker.app.get(QueueDeadLetterService).list('orders', { limit: CAP });
    expect(newestFirst[0]).toMatchObject({ reason: 'non-retryable', message: '{"id":"new"}' });
    // The survivors are the newest of the backlog, each with its record and body.
    expect(newestFirst.slice(1).map((d) => d.id)).toEqual(Array.from({ length: CAP - 1 }, (_, i) => `backlog-${BACKLOG - 1 - i}`));
    expect(broker.logger.text()).not.toMatch(/Could not settle/);
  });

  it('drops the oldest down to the cap when the reaper quarantines a poison message', async () => {
    const keys = new QueueKeys('poisoned', '');
    // A consumer that died for the last allowed time while running this message.
    const message = JSON.stringify({ id: 'poison' });
    const sha = createHash('sha1').update(message).digest('hex');
    await broker.plain.hset(keys.deaths, sha, MAX_DEATHS - 1);
    await broker.plain.lpush(keys.processing('ghost'), message);
    await broker.plain.zadd(keys.consumers, 0, 'ghost');

    await waitFor(async () => (await broker.plain.zscore(keys.consumers, 'ghost')) === null, { timeoutMs: 30_000, description: 'the reaper to reap the dead consumer' });
    expect(await deadCounts(broker.plain, keys)).toEqual([CAP, CAP, CAP]);
    const [newest] = await broker.app.get(QueueDeadLetterService).list('poisoned', { limit: 1 });
    expect(newest).toMatchObject({ reason: 'poison', message });
    expect(broker.logger.text()).toMatch(/ghost of queue poisoned stopped heart-beating: 0 message\(s\) returned to the queue, 1 quarantined/);
  });
});
