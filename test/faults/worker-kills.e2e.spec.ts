import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { ledger, report } from '../support/ledger.js';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis, WorkerPool } from '../support/worker-pool.js';

const SENT = 400;
const KILLS = 5;
const WINDOW = 4;
// Seven worker processes boot per scenario; boots are slow on a loaded 2-core machine.
const KILL_TEST_TIMEOUT_MS = 120_000;

describe('worker processes SIGKILLed again and again while consuming', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();
  let started = 0;

  function startWorker(kind: 'queue' | 'stream'): FixtureProcess {
    started += 1;
    return pool.spawn('fault-worker', {
      REDIS_URL: ctx.redis.url, KIND: kind, NAME: 'kills', CONSUMER: `consumer-${started}`,
      CONCURRENCY: String(WINDOW), WORK_MS: '40', CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200', CLAIM_IDLE_MS: '1000',
    });
  }

  /**
   * Two workers consume; every SENT/(KILLS+2) handled messages the oldest
   * live worker is SIGKILLed mid-work and a replacement starts (without
   * waiting for it: kills keep coming while it boots).
   */
  async function killRepeatedly(kind: 'queue' | 'stream'): Promise<void> {
    await Promise.all([startWorker(kind).ready, startWorker(kind).ready]);
    for (let kill = 0; kill < KILLS; kill += 1) {
      const target = Math.round(((kill + 1) * SENT) / (KILLS + 2));
      await waitFor(async () => (await ctx.plain.llen('handled:kills')) >= target, { timeoutMs: 20_000, description: `${target} handled` });
      const alive = pool.alive();
      const victim = alive[0];
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      startWorker(kind);
    }
  }

  /** Messages the survivors took back from killed workers, as their logs report it (shows the kills hit work in flight). */
  function recoveredFromDead(pattern: RegExp): number {
    return pool.started.map((w) => w.output()).join('\n').split('\n')
      .map((line) => pattern.exec(line)).reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
  }

  it('reliable list queue: loses none of 400 messages over 5 SIGKILLs; repeats stay within 8 per kill', async () => {
    await ctx.plain.lpush('kills', ...Array.from({ length: SENT }, (_, id) => JSON.stringify({ id })));
    await killRepeatedly('queue');
    await waitForQueuesIdle(ctx.redis.url, ['kills'], { timeoutMs: 30_000 });
    const result = ledger(SENT, await ctx.plain.lrange('handled:kills', 0, -1));
    const returned = recoveredFromDead(/stopped heart-beating: (\d+) message/);
    report('queue SIGKILL x5', { sent: SENT, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates, returnedByReaper: returned });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    // Per kill: what it was running, plus the acks it had in flight (at most another window).
    expect(result.duplicates).toBeLessThanOrEqual(KILLS * 2 * WINDOW);
    // The kills hit work in flight: the reaper returned what the dead held.
    expect(returned).toBeGreaterThan(0);
  }, KILL_TEST_TIMEOUT_MS);

  it('stream consumer group: loses none of 400 entries over 5 SIGKILLs; repeats stay within 4 per kill', async () => {
    for (let n = 0; n < SENT; n += 1) await ctx.plain.xadd('kills', '*', 'n', String(n));
    await killRepeatedly('stream');
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'kills', group: 'workers' }], { timeoutMs: 30_000 });
    const result = ledger(SENT, await ctx.plain.lrange('handled:kills', 0, -1));
    const takenOver = recoveredFromDead(/took over (\d+) entr/);
    report('stream SIGKILL x5', {
      sent: SENT, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates,
      takenOver,
    });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.duplicates).toBeLessThanOrEqual(KILLS * WINDOW);
    expect(takenOver).toBeGreaterThan(0);
  }, KILL_TEST_TIMEOUT_MS);
});
