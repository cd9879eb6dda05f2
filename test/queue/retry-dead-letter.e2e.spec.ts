import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  BrokerEvents,
  NonRetryableError,
  QueueDeadLetterService,
  QueueHandler,
  type QueueMessageContext,
  type RetriedEvent,
} from 'nest-redis-broker';
import { startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';

const attemptsSeen = new Map<string, number[]>();
let healAfter = Number.POSITIVE_INFINITY;

@Injectable()
class FlakyHandlers {
  @QueueHandler('flaky', { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 40, jitter: false } })
  flaky(payload: { id: string }, ctx: QueueMessageContext): void {
    attemptsSeen.set(payload.id, [...(attemptsSeen.get(payload.id) ?? []), ctx.attempt]);
    if (ctx.attempt < healAfter) throw new Error(`boom on ${payload.id}`);
  }

  @QueueHandler('strict', { maxAttempts: 5 })
  strict(payload: { id: string }): void {
    attemptsSeen.set(`strict-${payload.id}`, [...(attemptsSeen.get(`strict-${payload.id}`) ?? []), 1]);
    throw new NonRetryableError(`order ${payload.id} does not exist`);
  }
}

describe('retries and the dead-letter list', () => {
  let redis: RedisServerHandle;
  let app: INestApplicationContext;
  let plain: Redis;
  const retried: RetriedEvent[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    ({ app } = await bootBroker({ connection: { url: redis.url }, delayedPollMs: 50 }, [FlakyHandlers]));
    app.get(BrokerEvents).on('retried', (event) => retried.push(event));
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  it('retries with the configured backoff, then dead-letters with the reason after maxAttempts', async () => {
    await plain.lpush('flaky', JSON.stringify({ id: 'a' }));
    const [stats] = await waitForQueuesIdle(redis.url, ['flaky'], { timeoutMs: 10_000 });
    expect(attemptsSeen.get('a')).toEqual([1, 2, 3]);
    expect(retried.filter((e) => e.source === 'flaky').map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 40],
      [2, 80],
    ]);
    expect(stats.dead).toBe(1);
    const [dead] = await app.get(QueueDeadLetterService).list('flaky');
    expect(dead).toMatchObject({
      queue: 'flaky',
      reason: 'max-attempts',
      error: 'boom on a',
      attempts: 3,
      handler: 'FlakyHandlers@flaky',
      message: '{"id":"a"}',
    });
  });

  it('requeue brings a dead message back, with fresh attempts', async () => {
    const deadLetters = app.get(QueueDeadLetterService);
    const [dead] = await deadLetters.list('flaky');
    healAfter = 1; // the handler works now
    expect(await deadLetters.requeue('flaky', dead.id)).toBe(true);
    await waitFor(() => (attemptsSeen.get('a') ?? []).length === 4, { description: 'the requeued message to run' });
    expect(attemptsSeen.get('a')!.at(-1)).toBe(1);
    await waitForQueuesIdle(redis.url, ['flaky']);
    expect(await deadLetters.count('flaky')).toBe(0);
    expect(await deadLetters.requeue('flaky', dead.id)).toBe(false);
  });

  it('sends a NonRetryableError straight to the dead-letter list', async () => {
    await plain.lpush('strict', JSON.stringify({ id: '7' }));
    await waitFor(async () => (await app.get(QueueDeadLetterService).count('strict')) === 1, { description: 'dead letter' });
    expect(attemptsSeen.get('strict-7')).toEqual([1]);
    const [dead] = await app.get(QueueDeadLetterService).list('strict');
    expect(dead).toMatchObject({ reason: 'non-retryable', error: 'order 7 does not exist', attempts: 1 });
  });

  it('requeueAll and purge operate on the whole dead-letter list', async () => {
    const deadLetters = app.get(QueueDeadLetterService);
    await plain.lpush('strict', JSON.stringify({ id: '8' }), JSON.stringify({ id: '9' }));
    await waitFor(async () => (await deadLetters.count('strict')) === 3, { description: 'three dead letters' });
    expect(await deadLetters.requeueAll('strict')).toBe(3);
    await waitFor(async () => (await deadLetters.count('strict')) === 3, { description: 'them to die again' });
    expect(await deadLetters.purge('strict')).toBe(3);
    expect(await deadLetters.count('strict')).toBe(0);
    expect(await deadLetters.list('strict')).toEqual([]);
  });
});
