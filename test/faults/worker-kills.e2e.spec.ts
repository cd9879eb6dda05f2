import { QueueKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { ledger, loggedTotal, report } from '../support/ledger.js';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis } from '../support/file-redis.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const SENT = 400;
const KILLS = 5;
const WINDOW = 4;
// Seven worker processes boot per scenario, in the worst case one after another, then the backlog drains.
const KILL_TEST_TIMEOUT_MS = (KILLS + 2) * BOOT_BUDGET_MS + DRAIN_BUDGET_MS;

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
      await oneWorkerUp();
      await waitFor(async () => (await ctx.plain.llen('handled:kills')) >= target, { timeoutMs: DRAIN_BUDGET_MS, description: `${target} handled` });
      const alive = pool.alive();
      const victim = alive[0];
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      startWorker(kind);
    }
  }

  /** The live workers may all be replacements still booting (kills come faster than boots): progress waits for one. */
  async function oneWorkerUp(): Promise<void> {
    await Promise.any(pool.alive().map((w) => w.ready));
  }

  it('reliable list queue: loses none of 400 messages over 5 SIGKILLs; only messages the reaper returned run again', async () => {
    await ctx.plain.lpush('kills', ...Array.from({ length: SENT }, (_, id) => JSON.stringify({ id })));
    await killRepeatedly('queue');
    await oneWorkerUp();
    await waitForQueuesIdle(ctx.redis.url, ['kills'], { timeoutMs: DRAIN_BUDGET_MS });
    const result = ledger(SENT, await ctx.plain.lrange('handled:kills', 0, -1));
    const returned = loggedTotal(pool.started, /stopped heart-beating: (\d+) message/);
    report('queue SIGKILL x5', { sent: SENT, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates, returnedByReaper: returned });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    // The kills hit work in flight: the reaper returned what the dead held.
    expect(returned).toBeGreaterThan(0);
    // A repeat is a message that ran in a killed worker and ran again: it was still in that worker's
    // processing list (running, or handled with its ack not landed), so the reaper returned it; the
    // unstarted ones it returned run once. Hence no more repeats than messages returned.
    expect(result.duplicates).toBeLessThanOrEqual(returned);
    // Every killed worker was reaped: once the live ones are up (each registers), only they are in the
    // consumers set (the reaper's next ticks get there).
    await Promise.all(pool.alive().map((w) => w.ready));
    await waitFor(async () => (await ctx.plain.zcard(new QueueKeys('kills', '').consumers)) === pool.alive().length, {
      timeoutMs: DRAIN_BUDGET_MS, description: 'the killed workers to leave the consumers set',
    });
  }, KILL_TEST_TIMEOUT_MS);

  it('stream consumer group: loses none of 400 entries over 5 SIGKILLs; only entries taken over run again', async () => {
    for (let n = 0; n < SENT; n += 1) await ctx.plain.xadd('kills', '*', 'n', String(n));
    await killRepeatedly('stream');
    await oneWorkerUp();
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'kills', group: 'workers' }], { timeoutMs: DRAIN_BUDGET_MS });
    const result = ledger(SENT, await ctx.plain.lrange('handled:kills', 0, -1));
    const takenOver = loggedTotal(pool.started, /took over (\d+) entr/);
    report('stream SIGKILL x5', {
      sent: SENT, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates,
      takenOver,
    });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(takenOver).toBeGreaterThan(0);
    // A repeat is an entry that ran in a killed consumer without its XACK landing: it stayed pending
    // there until a survivor took it over (each takeover runs it at most once more).
    expect(result.duplicates).toBeLessThanOrEqual(takenOver);
  }, KILL_TEST_TIMEOUT_MS);
});
