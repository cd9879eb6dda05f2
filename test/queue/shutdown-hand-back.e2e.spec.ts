import { QueueKeys } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis } from '../support/file-redis.js';
import { WorkerPool } from '../support/worker-pool.js';

// A SIGKILLed worker and a poison message are the fault suite's (test/faults/worker-kills, process-faults).
const TOTAL = 40;
const CONCURRENCY = 2;
// Above concurrency: the worker holds messages it has not started.
const PREFETCH = 6;
// Long enough that the messages held at the signal are still waiting when it lands; far below the
// fixture's shutdown deadline (10 s), so the running handlers finish.
const WORK_MS = 2_000;

describe('a worker process stopped with SIGTERM while it holds messages it has not started', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();

  async function numbers(list: string): Promise<number[]> {
    return (await ctx.plain.lrange(list, 0, -1)).map(Number);
  }

  /** The queue as consumers will take it (they pop from the right). */
  async function consumingOrder(): Promise<number[]> {
    return (await ctx.plain.lrange('work', 0, -1)).reverse().map((m) => (JSON.parse(m) as { id: number }).id);
  }

  async function stopAndCheck(worker: FixtureProcess): Promise<void> {
    worker.child.kill('SIGTERM');
    // Nest re-raises the signal once its shutdown hooks are done.
    expect(await worker.exited).toBe('SIGTERM');
    const handled = await numbers('handled:work');
    // Every handler it started finished (none was cut off by the deadline).
    expect((await numbers('started:work')).sort((a, b) => a - b)).toEqual([...handled].sort((a, b) => a - b));
    // Everything else is back, at the consuming end in its original order: the messages it held come first.
    const rest = [...Array(TOTAL).keys()].filter((id) => !handled.includes(id));
    expect(await consumingOrder()).toEqual(rest);
    expect(await ctx.plain.keys('{work}:*')).toEqual([]);
  }

  it('reliable mode: finishes the running handlers and hands the held ones back to the consuming end, in order', async () => {
    await ctx.plain.lpush('work', ...Array.from({ length: TOTAL }, (_, id) => JSON.stringify({ id })));
    const worker = pool.spawn('fault-worker', {
      REDIS_URL: ctx.redis.url, KIND: 'queue', NAME: 'work', CONCURRENCY: String(CONCURRENCY), PREFETCH: String(PREFETCH), WORK_MS: String(WORK_MS),
    });
    await worker.ready;
    const keys = new QueueKeys('work', '');
    let consumer = '';
    await waitFor(async () => ([consumer = ''] = await ctx.plain.zrange(keys.consumers, '0', '-1')).length === 1, {
      description: 'the worker to register',
    });
    // In Redis: its window in its processing list, all but the running ones recorded as waiting.
    await waitFor(async () => (await ctx.plain.llen('started:work')) === CONCURRENCY
      && (await ctx.plain.llen(keys.processing(consumer))) === PREFETCH
      && (await ctx.plain.hlen(keys.waiting(consumer))) === PREFETCH - CONCURRENCY, {
      description: 'the worker to run 2 messages and hold 4 more',
    });
    await stopAndCheck(worker);
  });

  it('fast mode: finishes the running handlers and pushes the popped, unstarted ones back to the consuming end, in order', async () => {
    await ctx.plain.lpush('work', ...Array.from({ length: TOTAL }, (_, id) => JSON.stringify({ id })));
    const worker = pool.spawn('fault-worker', {
      REDIS_URL: ctx.redis.url, KIND: 'queue', NAME: 'work', MODE: 'fast',
      CONCURRENCY: String(CONCURRENCY), PREFETCH: String(PREFETCH), WORK_MS: String(WORK_MS),
    });
    await worker.ready;
    // Popped messages exist only in the process: 2 running, 4 held in memory.
    await waitFor(async () => (await ctx.plain.llen('started:work')) === CONCURRENCY && (await ctx.plain.llen('work')) === TOTAL - PREFETCH, {
      description: 'the worker to run 2 messages and hold 4 more',
    });
    await stopAndCheck(worker);
  });
});
