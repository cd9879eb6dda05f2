import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';
import { ledger, report } from '../support/ledger.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const SENT = 200;
const BATCH_SIZE = 20;
const TIMEOUT_MS = 2 * BOOT_BUDGET_MS + 2 * DRAIN_BUDGET_MS;

describe('a batch worker SIGKILLed mid-batch', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();

  function startWorker(kind: 'queue' | 'stream', consumer: string) {
    return pool.spawn('batch-worker', {
      REDIS_URL: ctx.redis.url, KIND: kind, NAME: 'batches', CONSUMER: consumer, BATCH_SIZE: String(BATCH_SIZE),
      WORK_MS: '300', CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200', CLAIM_IDLE_MS: '1000',
    });
  }

  /**
   * Worker A runs batches until some are handled, is SIGKILLed, and the
   * batch it was running (started, never handled) is read from what it
   * recorded; worker B then drains everything. Returns that batch and the ledger.
   */
  async function killMidBatch(kind: 'queue' | 'stream'): Promise<{ inFlight: string[]; result: ReturnType<typeof ledger> }> {
    const a = startWorker(kind, 'consumer-a');
    await a.ready;
    await waitFor(async () => (await ctx.plain.llen('handled:batches')) >= 2 * BATCH_SIZE, { timeoutMs: DRAIN_BUDGET_MS, description: 'two batches handled' });
    // Mid-batch: one has started and not finished (each takes 300 ms).
    await waitFor(async () => (await ctx.plain.llen('started:batches')) > (await ctx.plain.llen('handled:batches')), {
      timeoutMs: DRAIN_BUDGET_MS, description: 'a batch running',
    });
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    const handledByA = new Set(await ctx.plain.lrange('handled:batches', 0, -1));
    const inFlight = (await ctx.plain.lrange('started:batches', 0, -1)).filter((n) => !handledByA.has(n));
    await startWorker(kind, 'consumer-b').ready;
    if (kind === 'queue') await waitForQueuesIdle(ctx.redis.url, ['batches'], { timeoutMs: DRAIN_BUDGET_MS });
    else await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'batches', group: 'workers' }], { timeoutMs: DRAIN_BUDGET_MS });
    const handled = await ctx.plain.lrange('handled:batches', 0, -1);
    const result = ledger(SENT, handled);
    report(`${kind} batch SIGKILL`, { sent: SENT, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates, inFlightAtKill: inFlight.length });
    return { inFlight, result };
  }

  it('reliable list queue: loses no message; the batch running at the kill runs again', async () => {
    await ctx.plain.lpush('batches', ...Array.from({ length: SENT }, (_, id) => JSON.stringify({ id })));
    const { inFlight, result } = await killMidBatch('queue');
    expect(inFlight.length).toBeGreaterThan(0);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    const handled = await ctx.plain.lrange('handled:batches', 0, -1);
    for (const n of inFlight) expect(handled).toContain(n);
    // What can run twice is what the killed worker held: its batch window (size × concurrency 1).
    expect(result.duplicates).toBeLessThanOrEqual(BATCH_SIZE);
  }, TIMEOUT_MS);

  it('stream consumer group: loses no entry; the batch running at the kill is taken over and runs again', async () => {
    for (let n = 0; n < SENT; n += 1) await ctx.plain.xadd('batches', '*', 'n', String(n));
    const { inFlight, result } = await killMidBatch('stream');
    expect(inFlight.length).toBeGreaterThan(0);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    const handled = await ctx.plain.lrange('handled:batches', 0, -1);
    for (const n of inFlight) expect(handled).toContain(n);
    expect(result.duplicates).toBeLessThanOrEqual(BATCH_SIZE);
  }, TIMEOUT_MS);
});
