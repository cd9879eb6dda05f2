import { QueueKeys, ScheduleKeys } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { report } from '../support/ledger.js';
import { useRedis } from '../support/file-redis.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const EVERY = 200;
/** Ticks watched before the kill and after it: 10 s of an every-200 schedule in all. */
const TICKS_PER_PHASE = 25;

interface Run { tick: number; pid: number; id: string; lateMs: number }

async function runs(redis: Redis): Promise<Run[]> {
  return (await redis.lrange('ticks:every200', 0, -1)).map((line) => {
    const [tick, pid, id, lateMs] = line.split(' ');
    return { tick: Number(tick), pid: Number(pid), id, lateMs: Number(lateMs) };
  });
}

async function redisNow(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** The ticks from the first to the last seen that are missing, and how many ticks ran more than once. */
function gapsAndRepeats(seen: Run[]): { missing: number[]; repeats: number } {
  const ticks = seen.map((r) => r.tick);
  const unique = [...new Set(ticks)].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let t = unique[0]; t <= unique[unique.length - 1]; t += EVERY) if (!unique.includes(t)) missing.push(t);
  return { missing, repeats: ticks.length - unique.length };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

describe('a schedule shared by three worker processes', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();

  it('handles each tick exactly once, ids are the tick times, and ticks go on after the last runner is SIGKILLed', async () => {
    const env = { REDIS_URL: ctx.redis.url, NAME: 'every200', EVERY: String(EVERY), CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200' };
    const workers = [pool.spawn('schedule-worker', env), pool.spawn('schedule-worker', env), pool.spawn('schedule-worker', env)];
    await Promise.all(workers.map((w) => w.ready));
    await waitFor(async () => (await runs(ctx.plain)).length >= TICKS_PER_PHASE, { timeoutMs: BOOT_BUDGET_MS, description: `${TICKS_PER_PHASE} ticks` });

    // The process that ran the last tick, killed between runs (its processing list empty), so no run is cut in half.
    const queue = new QueueKeys('nrb:scheduled:every200', '');
    let victimPid = 0;
    await waitFor(async () => {
      const seen = await runs(ctx.plain);
      victimPid = seen[seen.length - 1].pid;
      const lists = await ctx.plain.keys(`${queue.processingPattern()}`);
      const held = await Promise.all(lists.map((key) => ctx.plain.llen(key)));
      return held.every((n) => n === 0);
    }, { timeoutMs: DRAIN_BUDGET_MS, intervalMs: 5, description: 'a moment between runs' });
    const victim = workers.find((w) => w.child.pid === victimPid);
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    await victim?.exited;
    const killedAt = await redisNow(ctx.plain);

    await waitFor(async () => (await runs(ctx.plain)).filter((r) => r.tick > killedAt).length >= TICKS_PER_PHASE, {
      timeoutMs: DRAIN_BUDGET_MS, description: `${TICKS_PER_PHASE} ticks after the kill`,
    });
    // Ticks claimed by the victim just before it died reach the queue from the outbox: wait for every tick up to the last seen.
    await waitFor(async () => gapsAndRepeats(await runs(ctx.plain)).missing.length === 0 && (await ctx.plain.zcard(new ScheduleKeys('').outbox)) === 0, {
      timeoutMs: DRAIN_BUDGET_MS, description: 'no missing tick',
    });

    const seen = await runs(ctx.plain);
    const { missing, repeats } = gapsAndRepeats(seen);
    report('schedule every 200 ms, 3 processes, 1 SIGKILL', {
      ticks: seen.length, missing: missing.length, repeats, afterKill: seen.filter((r) => r.tick > killedAt).length,
      runners: new Set(seen.map((r) => r.pid)).size,
      // How late a run started after its tick (same host: the process clock is the Redis clock); informative, not asserted.
      lateMsMedian: percentile(seen.map((r) => r.lateMs), 0.5), lateMsP95: percentile(seen.map((r) => r.lateMs), 0.95),
    });
    expect(missing).toEqual([]);
    expect(repeats).toBe(0);
    for (const run of seen) {
      expect(run.tick % EVERY).toBe(0);
      expect(run.id).toBe(`every200@${run.tick}`);
    }
    expect(seen.filter((r) => r.tick > killedAt).every((r) => r.pid !== victimPid)).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(2 * TICKS_PER_PHASE);
  }, 3 * BOOT_BUDGET_MS + 3 * DRAIN_BUDGET_MS);
});
