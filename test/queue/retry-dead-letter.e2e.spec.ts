import { Injectable } from '@nestjs/common';
import {
  BrokerEvents,
  NonRetryableError,
  QueueDeadLetterService,
  QueueHandler,
  type QueueMessageContext,
  type RetriedEvent,
} from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const attemptsSeen = new Map<string, number[]>();
/** When each run of a queue's handler started (epoch ms), by queue. */
const runsAt = new Map<string, number[]>();
let healAfter = Number.POSITIVE_INFINITY;
/** Retries of "capped": uncapped, the 11 waits would add up to 50 ms × (2^11 - 1), over 100 s. */
const CAPPED_ATTEMPTS = 12;
const JITTERED_ATTEMPTS = 6;

function ranAt(queue: string): void {
  runsAt.set(queue, [...(runsAt.get(queue) ?? []), Date.now()]);
}

/** Time between one run of a queue's handler and the next. */
function gaps(queue: string): number[] {
  const at = runsAt.get(queue) ?? [];
  return at.slice(1).map((t, i) => t - at[i]);
}

@Injectable()
class FlakyHandlers {
  @QueueHandler('flaky', { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 40, jitter: false } })
  flaky(payload: { id: string }, ctx: QueueMessageContext): void {
    attemptsSeen.set(payload.id, [...(attemptsSeen.get(payload.id) ?? []), ctx.attempt]);
    ranAt('flaky');
    if (ctx.attempt < healAfter) throw new Error(`boom on ${payload.id}`);
  }

  @QueueHandler('capped', { maxAttempts: CAPPED_ATTEMPTS, backoff: { type: 'exponential', delayMs: 50, maxDelayMs: 100, jitter: false } })
  capped(): void {
    ranAt('capped');
    throw new Error('still failing');
  }

  @QueueHandler('jittered', { maxAttempts: JITTERED_ATTEMPTS, backoff: { type: 'fixed', delayMs: 200, jitter: true } })
  jittered(): void {
    ranAt('jittered');
    throw new Error('still failing');
  }

  @QueueHandler('strict', { maxAttempts: 5 })
  strict(payload: { id: string }): void {
    attemptsSeen.set(`strict-${payload.id}`, [...(attemptsSeen.get(`strict-${payload.id}`) ?? []), 1]);
    throw new NonRetryableError(`order ${payload.id} does not exist`);
  }
}

describe('retries and the dead-letter list', () => {
  const retried: RetriedEvent[] = [];

  const broker = useBrokerApp({ delayedPollMs: 50 }, [FlakyHandlers]);

  beforeAll(() => {
    broker.app.get(BrokerEvents).on('retried', (event) => retried.push(event));
  });

  it('retries with the configured backoff, then dead-letters with the reason after maxAttempts', async () => {
    await broker.plain.lpush('flaky', JSON.stringify({ id: 'a' }));
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['flaky'], { timeoutMs: 10_000 });
    expect(attemptsSeen.get('a')).toEqual([1, 2, 3]);
    expect(retried.filter((e) => e.source === 'flaky').map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 40],
      [2, 80],
    ]);
    // The handler really waited that long before each run again (lower bounds: a loaded machine only adds).
    const [first, second] = gaps('flaky');
    expect(first).toBeGreaterThanOrEqual(40);
    expect(second).toBeGreaterThanOrEqual(80);
    expect(stats.dead).toBe(1);
    const [dead] = await broker.app.get(QueueDeadLetterService).list('flaky');
    expect(dead).toMatchObject({
      queue: 'flaky',
      reason: 'max-attempts',
      error: 'boom on a',
      attempts: 3,
      handler: 'FlakyHandlers@flaky',
      message: '{"id":"a"}',
    });
  });

  it('caps each wait at maxDelayMs: a message with 12 attempts dies within seconds, not after 100 s of doubling waits', async () => {
    await broker.plain.lpush('capped', JSON.stringify({ id: 'c' }));
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['capped'], { timeoutMs: 30_000 });
    expect(stats.dead).toBe(1);
    const delays = retried.filter((e) => e.source === 'capped').map((e) => e.delayMs);
    expect(delays).toEqual([50, ...Array.from({ length: CAPPED_ATTEMPTS - 2 }, () => 100)]);
    const waited = gaps('capped');
    expect(waited).toHaveLength(CAPPED_ATTEMPTS - 1);
    waited.forEach((gap, i) => expect(gap, `wait before run ${i + 2}`).toBeGreaterThanOrEqual(delays[i]));
  });

  it('spreads retries with jitter: each wait is a different point of [delay/2, delay], and the handler waits it', async () => {
    await broker.plain.lpush('jittered', JSON.stringify({ id: 'j' }));
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['jittered'], { timeoutMs: 30_000 });
    expect(stats.dead).toBe(1);
    const delays = retried.filter((e) => e.source === 'jittered').map((e) => e.delayMs);
    expect(delays).toHaveLength(JITTERED_ATTEMPTS - 1);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(200);
    }
    // Drawn at random: five equal draws would mean no jitter.
    expect(new Set(delays).size).toBeGreaterThan(1);
    gaps('jittered').forEach((gap, i) => expect(gap, `wait before run ${i + 2}`).toBeGreaterThanOrEqual(Math.floor(delays[i])));
  });

  it('requeue brings a dead message back, with fresh attempts', async () => {
    const deadLetters = broker.app.get(QueueDeadLetterService);
    const [dead] = await deadLetters.list('flaky');
    healAfter = 1; // the handler works now
    expect(await deadLetters.requeue('flaky', dead.id)).toBe(true);
    await waitFor(() => (attemptsSeen.get('a') ?? []).length === 4, { description: 'the requeued message to run' });
    expect(attemptsSeen.get('a')!.at(-1)).toBe(1);
    await waitForQueuesIdle(broker.redis.url, ['flaky']);
    expect(await deadLetters.count('flaky')).toBe(0);
    expect(await deadLetters.requeue('flaky', dead.id)).toBe(false);
  });

  it('sends a NonRetryableError straight to the dead-letter list', async () => {
    await broker.plain.lpush('strict', JSON.stringify({ id: '7' }));
    await waitFor(async () => (await broker.app.get(QueueDeadLetterService).count('strict')) === 1, { description: 'dead letter' });
    expect(attemptsSeen.get('strict-7')).toEqual([1]);
    const [dead] = await broker.app.get(QueueDeadLetterService).list('strict');
    expect(dead).toMatchObject({ reason: 'non-retryable', error: 'order 7 does not exist', attempts: 1 });
  });

  it('requeueAll and purge operate on the whole dead-letter list', async () => {
    const deadLetters = broker.app.get(QueueDeadLetterService);
    await broker.plain.lpush('strict', JSON.stringify({ id: '8' }), JSON.stringify({ id: '9' }));
    await waitFor(async () => (await deadLetters.count('strict')) === 3, { description: 'three dead letters' });
    expect(await deadLetters.requeueAll('strict')).toBe(3);
    await waitFor(async () => (await deadLetters.count('strict')) === 3, { description: 'them to die again' });
    expect(await deadLetters.purge('strict')).toBe(3);
    expect(await deadLetters.count('strict')).toBe(0);
    expect(await deadLetters.list('strict')).toEqual([]);
  });
});
