import { QueueKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis, WorkerPool } from '../support/worker-pool.js';

const FAST_REAP = { CONSUMER_TTL_MS: '1500', HEARTBEAT_MS: '200' };

describe('reliable queues when worker processes die', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();

  function startWorker(env: Record<string, string>): FixtureProcess {
    return pool.spawn('queue-worker', { REDIS_URL: ctx.redis.url, ...FAST_REAP, ...env });
  }

  async function handledIds(): Promise<number[]> {
    return (await ctx.plain.lrange('handled', 0, -1)).map(Number);
  }

  it('loses no message when a worker is SIGKILLed mid-work: a surviving worker handles them all', async () => {
    const total = 150;
    await ctx.plain.lpush('work', ...Array.from({ length: total }, (_, i) => JSON.stringify({ id: i })));
    const first = startWorker({ WORK_MS: '15', WORKER_CONCURRENCY: '4' });
    await first.ready;
    await waitFor(async () => (await handledIds()).length >= 20, { description: 'the first worker to be busy' });
    first.child.kill('SIGKILL');
    await first.exited;
    const keys = new QueueKeys('work', '');
    // The dead worker is still registered (it may be between an ack and a fetch, holding nothing);
    // whatever its processing list holds goes back through the reaper.
    const [deadConsumer] = await ctx.plain.zrange(keys.consumers, '0', '-1');
    expect(deadConsumer).toBeDefined();

    const second = startWorker({ WORK_MS: '1', WORKER_CONCURRENCY: '4' });
    await second.ready;
    await waitForQueuesIdle(ctx.redis.url, ['work'], { timeoutMs: 30_000 });
    const ids = await handledIds();
    const unique = new Set(ids);
    expect([...Array(total).keys()].filter((i) => !unique.has(i))).toEqual([]);
    // At-least-once: only messages the killed worker held (its prefetch window of 4) may run twice.
    expect(ids.length - unique.size).toBeLessThanOrEqual(4);
    expect(await ctx.plain.zrange(keys.consumers, '0', '-1')).not.toContain(deadConsumer);
  });

  it('quarantines a message that kills its worker every time, after maxDeaths, while the others flow', async () => {
    const total = 30;
    await ctx.plain.lpush('work', ...Array.from({ length: total }, (_, i) => JSON.stringify({ id: i })));
    let crashes = 0;
    const keys = new QueueKeys('work', '');
    await waitFor(
      async () => {
        const running = pool.alive();
        if (running.length === 0) {
          if (pool.started.length > 0) crashes += 1;
          startWorker({ WORK_MS: '5', WORKER_CONCURRENCY: '4', CRASH_ON: '7', MAX_DEATHS: '3' });
        }
        return (await ctx.plain.zcard(keys.deadIndex)) === 1 && (await ctx.plain.llen('work')) === 0;
      },
      { timeoutMs: 60_000, intervalMs: 100, description: 'the poison message to be quarantined' },
    );
    await waitForQueuesIdle(ctx.redis.url, ['work'], { timeoutMs: 30_000 });
    const unique = new Set(await handledIds());
    expect([...Array(total).keys()].filter((i) => !unique.has(i))).toEqual([7]);
    expect(crashes).toBe(3);
    const [id] = await ctx.plain.zrange(keys.deadIndex, '0', '-1');
    const record = JSON.parse((await ctx.plain.hget(keys.deadRecords, id))!) as { reason: string; error: string };
    expect(record.reason).toBe('poison');
    expect(record.error).toContain('died 3 times');
    expect(await ctx.plain.hget(keys.deadMessages, id)).toBe('{"id":7}');
  });

  it('exits on SIGTERM after finishing in-flight work, handing back what it had not started', async () => {
    const total = 40;
    await ctx.plain.lpush('work', ...Array.from({ length: total }, (_, i) => JSON.stringify({ id: i })));
    const worker = startWorker({ WORK_MS: '200', WORKER_CONCURRENCY: '2' });
    await worker.ready;
    await waitFor(async () => (await handledIds()).length >= 2, { description: 'work to start' });
    worker.child.kill('SIGTERM');
    // Nest re-raises the signal once its shutdown hooks are done.
    expect(await worker.exited).toBe('SIGTERM');
    const keys = new QueueKeys('work', '');
    const handled = await handledIds();
    expect(handled.length).toBeLessThan(total);
    expect(await ctx.plain.zrange(keys.consumers, '0', '-1')).toEqual([]);
    const waiting = (await ctx.plain.lrange('work', 0, -1)).map((m) => (JSON.parse(m) as { id: number }).id);
    expect([...handled, ...waiting].sort((a, b) => a - b)).toEqual([...Array(total).keys()]);
  });
});
