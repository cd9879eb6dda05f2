import { Injectable } from '@nestjs/common';
import { BrokerEvents, Ctx, StreamConsumer, StreamDeadLetterService, StreamKeys, type HandledEvent, type StreamMessageContext } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useBrokerApp, useRedis } from '../support/file-redis.js';

const aborts: { deliveries: number; reason: string }[] = [];
const started: string[] = [];
const stuck = deferred<string>();

function untilAborted(ctx: StreamMessageContext, seen: (reason: DOMException) => void): Promise<never> {
  return new Promise((_resolve, reject) => {
    ctx.signal.addEventListener('abort', () => {
      seen(ctx.signal.reason as DOMException);
      reject(ctx.signal.reason as Error);
    }, { once: true });
  });
}

@Injectable()
class SlowConsumers {
  @StreamConsumer({
    stream: 'renders', group: 'workers', timeoutMs: 100, maxDeliveries: 2, reclaimIntervalMs: 50,
    backoff: { type: 'fixed', delayMs: 20, jitter: false },
  })
  render(@Ctx() ctx: StreamMessageContext): Promise<never> {
    return untilAborted(ctx, (reason) => aborts.push({ deliveries: ctx.deliveryCount, reason: reason.name }));
  }

  /** The first entry ignores its signal until the test releases it; the others are quick. */
  @StreamConsumer({ stream: 'jobs', group: 'workers', timeoutMs: 200, maxDeliveries: 1, concurrency: 1 })
  async job(fields: { n: string }): Promise<string> {
    started.push(fields.n);
    if (fields.n === '1') return stuck.promise;
    return 'quick';
  }
}

describe('stream consumer timeoutMs', () => {
  const broker = useBrokerApp({}, [SlowConsumers]);
  const handled: HandledEvent[] = [];

  beforeAll(() => {
    broker.app.get(BrokerEvents).on('handled', (event) => handled.push(event));
  });

  afterAll(() => stuck.resolve('released'));

  it('aborts the signal of a run past timeoutMs with a TimeoutError, redelivers it, then dead-letters it with reason timeout', async () => {
    const id = (await broker.plain.xadd('renders', '*', 'page', '1')) as string;
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('renders', 'workers')) === 1, { description: 'the entry to be dead-lettered' });
    expect(aborts).toEqual([{ deliveries: 1, reason: 'TimeoutError' }, { deliveries: 2, reason: 'TimeoutError' }]);
    const [record] = await dead.list('renders', 'workers');
    expect(record).toMatchObject({
      originalId: id, reason: 'timeout', deliveries: 2, error: 'the handler ran longer than timeoutMs (100 ms)', handler: 'SlowConsumers@render',
    });
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'renders', group: 'workers' }]);
    expect(stats).toMatchObject({ pending: 0, dead: 1 });
  });

  it('frees the slot at the timeout and ignores the late result: the entry is settled once, as timed out', async () => {
    await broker.plain.xadd('jobs', '*', 'n', '1');
    await broker.plain.xadd('jobs', '*', 'n', '2');
    await waitFor(() => handled.some((e) => e.source === 'jobs/workers'), { description: 'the second entry to be handled' });
    expect(started).toEqual(['1', '2']);
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('jobs', 'workers')) === 1, { description: 'the first entry to be dead-lettered' });

    stuck.resolve('late');
    await waitFor(() => broker.logger.text().includes('had passed; the result is ignored'), { description: 'the late result to be logged' });
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'jobs', group: 'workers' }]);
    expect(stats).toMatchObject({ pending: 0, dead: 1 });
    expect(handled.filter((e) => e.source === 'jobs/workers')).toHaveLength(1);
    expect((await dead.list('jobs', 'workers'))[0]).toMatchObject({ reason: 'timeout', fields: { n: '1' } });
    expect(broker.logger.lines.filter((l) => l.message.includes('had passed; the result is ignored'))).toHaveLength(1);
  });
});

const shutdownAborts: string[] = [];

@Injectable()
class HonouringAtShutdown {
  @StreamConsumer({ stream: 'exports', group: 'workers', timeoutMs: 600_000 })
  exportAll(@Ctx() ctx: StreamMessageContext): Promise<never> {
    return untilAborted(ctx, (reason) => shutdownAborts.push(reason.name));
  }
}

describe('the shutdown deadline and a stream handler signal', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  it('aborts the signal at the deadline and leaves the entry pending, with no verdict', async () => {
    const { app, logger } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'leaving', shutdownTimeoutMs: 200 }, [HonouringAtShutdown]);
    const id = (await ctx.plain.xadd('exports', '*', 'all', 'yes')) as string;
    await waitFor(async () => ((await ctx.plain.xpending('exports', 'workers')) as [number])[0] === 1, { description: 'the entry to be delivered' });
    await app.close();
    expect(shutdownAborts).toEqual(['AbortError']);
    expect(await ctx.plain.xpending('exports', 'workers', '-', '+', 10)).toEqual([[id, 'leaving', expect.any(Number), 1]]);
    expect(await ctx.plain.exists(new StreamKeys('exports', '').deadLetter('workers'))).toBe(0);
    expect(logger.text()).not.toContain('failed on message');
  });
});
