import { Injectable } from '@nestjs/common';
import {
  BrokerEvents,
  QueueDeadLetterService,
  QueueHandler,
  QueueKeys,
  type HandledEvent,
  type QueueMessageContext,
  type RetriedEvent,
} from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useBrokerApp, useRedis } from '../support/file-redis.js';

/** What each run saw of its signal when it ended, by queue. */
const aborts = new Map<string, { aborted: boolean; reason: string; message: string }[]>();
const started: string[] = [];
/** Released by the test: the handler of "stuck" ignores its signal until then. */
const stuck = deferred<string>();

function untilAborted(ctx: QueueMessageContext): Promise<never> {
  return new Promise((_resolve, reject) => {
    ctx.signal.addEventListener('abort', () => {
      const reason = ctx.signal.reason as DOMException;
      aborts.set(ctx.queue, [...(aborts.get(ctx.queue) ?? []), { aborted: ctx.signal.aborted, reason: reason.name, message: reason.message }]);
      reject(reason);
    }, { once: true });
  });
}

@Injectable()
class SlowHandlers {
  /** Honours its signal: gives up as soon as it is aborted. */
  @QueueHandler('honours', { timeoutMs: 100, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  honours(_payload: unknown, ctx: QueueMessageContext): Promise<never> {
    return untilAborted(ctx);
  }

  /** The first message ignores its signal and never ends before the test releases it; the others are quick. */
  @QueueHandler('stuck', { timeoutMs: 200, maxAttempts: 1, concurrency: 1 })
  async stuck(payload: { n: number }): Promise<string> {
    started.push(`stuck-${payload.n}`);
    if (payload.n === 1) return stuck.promise;
    return 'quick';
  }

  /** Quick runs under the timeout are not affected by it. */
  @QueueHandler('quick', { timeoutMs: 60_000 })
  async quick(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('queue handler timeoutMs', () => {
  const broker = useBrokerApp({ delayedPollMs: 20 }, [SlowHandlers]);
  const handled: HandledEvent[] = [];
  const retried: RetriedEvent[] = [];

  beforeAll(() => {
    const events = broker.app.get(BrokerEvents);
    events.on('handled', (event) => handled.push(event));
    events.on('retried', (event) => retried.push(event));
  });

  afterAll(() => stuck.resolve('released'));

  it('aborts the signal of a run that passes timeoutMs with a TimeoutError, retries it, then dead-letters it with reason timeout', async () => {
    await broker.plain.lpush('honours', JSON.stringify({ id: 'slow' }));
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['honours'], { timeoutMs: 10_000 });
    expect(stats.dead).toBe(1);
    expect(aborts.get('honours')).toEqual([
      { aborted: true, reason: 'TimeoutError', message: 'the handler ran longer than timeoutMs (100 ms)' },
      { aborted: true, reason: 'TimeoutError', message: 'the handler ran longer than timeoutMs (100 ms)' },
    ]);
    expect(retried.filter((e) => e.source === 'honours').map((e) => e.attempt)).toEqual([1]);
    const [dead] = await broker.app.get(QueueDeadLetterService).list('honours');
    expect(dead).toMatchObject({ reason: 'timeout', attempts: 2, error: 'the handler ran longer than timeoutMs (100 ms)', handler: 'SlowHandlers@honours' });
    // The signal's own rejection after the timeout is the expected end of an honouring handler: no "late" warning.
    expect(broker.logger.text()).not.toContain('SlowHandlers@honours on message');
  });

  it('frees the slot at the timeout: with concurrency 1 the next message runs while the first still ignores its signal', async () => {
    await broker.plain.lpush('stuck', JSON.stringify({ n: 1 }), JSON.stringify({ n: 2 }));
    await waitFor(() => handled.some((e) => e.source === 'stuck'), { description: 'the second message to be handled' });
    expect(started).toEqual(['stuck-1', 'stuck-2']);
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['stuck']);
    expect(stats.dead).toBe(1);
    const [dead] = await broker.app.get(QueueDeadLetterService).list('stuck');
    expect(dead).toMatchObject({ reason: 'timeout', attempts: 1, message: '{"n":1}' });
  });

  it('ignores the late result of a timed-out handler: no ack, no second settle, one warning', async () => {
    // The first "stuck" message is still running (its promise never settled): now it succeeds, late.
    stuck.resolve('late');
    await waitFor(() => broker.logger.text().includes('after its timeoutMs (200 ms) had passed'), { description: 'the late result to be logged' });
    await broker.plain.lpush('quick', JSON.stringify({ after: 'late' }));
    await waitForQueuesIdle(broker.redis.url, ['quick', 'stuck']);
    const lateLines = broker.logger.lines.filter((l) => l.message.includes('had passed; the result is ignored'));
    expect(lateLines).toHaveLength(1);
    expect(lateLines[0]).toMatchObject({ level: 'warn', context: 'QueueMessageProcessor' });
    expect(lateLines[0].message).toContain('SlowHandlers@stuck on message');
    expect(lateLines[0].message).toContain('succeeded after its timeoutMs');
    // Handled once (the quick second message), the late first one is not counted again.
    expect(handled.filter((e) => e.source === 'stuck')).toHaveLength(1);
    expect(await broker.app.get(QueueDeadLetterService).list('stuck')).toHaveLength(1);
    expect(await broker.plain.llen('stuck')).toBe(0);
  });

  it('leaves runs that finish under timeoutMs alone', async () => {
    await broker.plain.lpush('quick', ...Array.from({ length: 20 }, (_, i) => JSON.stringify({ i })));
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['quick']);
    expect(stats.dead).toBe(0);
    expect(handled.filter((e) => e.source === 'quick')).toHaveLength(21);
  });
});

/** Shutdown's deadline, with and without a timeout of the handler's own. */
const shutdownRuns = new Map<string, { aborted: boolean; reason: string }>();
const shutdownStarted = new Set<string>();

@Injectable()
class HonouringAtShutdown {
  @QueueHandler('untimed')
  untimed(_payload: unknown, ctx: QueueMessageContext): Promise<never> {
    return this.waitForAbort(ctx);
  }

  @QueueHandler('timed', { timeoutMs: 600_000 })
  timed(_payload: unknown, ctx: QueueMessageContext): Promise<never> {
    return this.waitForAbort(ctx);
  }

  private waitForAbort(ctx: QueueMessageContext): Promise<never> {
    shutdownStarted.add(ctx.queue);
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        shutdownRuns.set(ctx.queue, { aborted: ctx.signal.aborted, reason: (ctx.signal.reason as DOMException).name });
        reject(ctx.signal.reason as Error);
      }, { once: true });
    });
  }
}

describe('the shutdown deadline and ctx.signal', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  it('aborts the signal of runs still going at the deadline with an AbortError and hands their messages back uncounted', async () => {
    const { app, logger } = await bootBroker({ connection: { url: ctx.redis.url }, shutdownTimeoutMs: 200 }, [HonouringAtShutdown]);
    await ctx.plain.lpush('untimed', JSON.stringify({ q: 'untimed' }));
    await ctx.plain.lpush('timed', JSON.stringify({ q: 'timed' }));
    await waitFor(() => shutdownStarted.size === 2, { description: 'both handlers to start' });
    await app.close();
    expect(shutdownRuns.get('untimed')).toEqual({ aborted: true, reason: 'AbortError' });
    expect(shutdownRuns.get('timed')).toEqual({ aborted: true, reason: 'AbortError' });
    // Back in their queues as they were: no failed attempt recorded, nothing retried or dead-lettered.
    expect(await ctx.plain.lrange('untimed', 0, -1)).toEqual(['{"q":"untimed"}']);
    expect(await ctx.plain.lrange('timed', 0, -1)).toEqual(['{"q":"timed"}']);
    for (const queue of ['untimed', 'timed']) {
      const keys = new QueueKeys(queue, '');
      expect(await ctx.plain.exists(keys.attempts, keys.delayed, keys.deadIndex, keys.deadMessages)).toBe(0);
    }
    expect(logger.text()).not.toContain('failed on message');
  });
});
