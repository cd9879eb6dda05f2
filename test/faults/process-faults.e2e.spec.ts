import { QueueKeys, StreamKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { ledger, loggedTotal, report } from '../support/ledger.js';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis } from '../support/file-redis.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const WINDOW = 4;
// Poison scenarios boot 4 workers one after another (one per crash, then the one that finishes), then drain.
const POISON_BOOTS = 4;
const POISON_TIMEOUT_MS = POISON_BOOTS * BOOT_BUDGET_MS + DRAIN_BUDGET_MS;
const SHUTDOWN_TIMEOUT_MS = 500;
// Handlers of the SIGTERM scenarios outlive the deadline by far: a worker that exits before they could
// end did not wait for them.
const LONG_WORK_MS = 30_000;
// A wait on a Redis that is down, not bounded by the library, ends only when ioredis gives up on the
// command: after maxRetriesPerRequest (20) reconnects, spaced min(50 ms x attempt, 2 s), i.e. 10.5 s.
const IOREDIS_RETRY_BUDGET_MS = Array.from({ length: 20 }, (_, i) => Math.min(50 * (i + 1), 2_000)).reduce((a, b) => a + b, 0);

describe('a poison message and SIGTERM (under load, and with Redis down), with worker processes', () => {
  // AOF: one scenario kills Redis and expects its data back.
  const ctx = useRedis({ appendOnly: true });
  const pool = new WorkerPool();
  let started = 0;

  function startWorker(kind: 'queue' | 'stream', env: Record<string, string> = {}): FixtureProcess {
    started += 1;
    return pool.spawn('fault-worker', {
      REDIS_URL: ctx.redis.url, KIND: kind, NAME: 'pf', CONSUMER: `consumer-${started}`, CONCURRENCY: String(WINDOW),
      CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200', CLAIM_IDLE_MS: '1000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), ...env,
    });
  }

  const alive = (): FixtureProcess[] => pool.alive();

  /** Keeps one worker running (restarting it each time the poison kills it) until `done`; resolves to the crashes. */
  async function superviseUntil(kind: 'queue' | 'stream', done: () => Promise<boolean>): Promise<number> {
    let crashes = 0;
    await waitFor(
      async () => {
        if (alive().length === 0) {
          if (pool.started.length > 0) crashes += 1;
          startWorker(kind, { CRASH_ON: '7', WORK_MS: '5', MAX_DEATHS: '3', MAX_DELIVERIES: '3' });
        }
        return done();
      },
      { timeoutMs: POISON_BOOTS * BOOT_BUDGET_MS, intervalMs: 100, description: 'the poison message to be quarantined' },
    );
    return crashes;
  }

  it('list queue: the message that kills its worker is quarantined after 3 deaths; the other 59 flow', async () => {
    const sent = 60;
    await ctx.plain.lpush('pf', ...Array.from({ length: sent }, (_, id) => JSON.stringify({ id })));
    const keys = new QueueKeys('pf', '');
    const crashes = await superviseUntil('queue', async () => (await ctx.plain.zcard(keys.deadIndex)) === 1 && (await ctx.plain.llen('pf')) === 0);
    await waitForQueuesIdle(ctx.redis.url, ['pf'], { timeoutMs: DRAIN_BUDGET_MS });
    const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
    const returned = loggedTotal(pool.started, /stopped heart-beating: (\d+) message/);
    report('queue poison', { sent, crashes, missing: result.missing.join(','), duplicates: result.duplicates, returnedByReaper: returned });
    expect(result.missing).toEqual([7]);
    expect(crashes).toBe(3);
    // A repeat ran in a crashed worker and was still in its processing list (running beside the poison,
    // or handled with its ack in flight), so the reaper returned it; the poison is quarantined, not returned.
    expect(result.duplicates).toBeLessThanOrEqual(returned);
    const [id] = await ctx.plain.zrange(keys.deadIndex, '0', '-1');
    expect(JSON.parse((await ctx.plain.hget(keys.deadRecords, id))!)).toMatchObject({ reason: 'poison' });
    expect(await ctx.plain.hget(keys.deadMessages, id)).toBe('{"id":7}');
  }, POISON_TIMEOUT_MS);

  it('stream group: the entry that kills its consumer is dead-lettered after 3 deliveries; the other 59 flow', async () => {
    const sent = 60;
    for (let n = 0; n < sent; n += 1) await ctx.plain.xadd('pf', '*', 'n', String(n));
    const dead = new StreamKeys('pf', '').deadLetter('workers');
    const crashes = await superviseUntil('stream', async () => (await ctx.plain.xlen(dead)) === 1);
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'pf', group: 'workers' }], { timeoutMs: DRAIN_BUDGET_MS });
    const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
    const takenOver = loggedTotal(pool.started, /took over (\d+) entr/);
    report('stream poison', { sent, crashes, missing: result.missing.join(','), duplicates: result.duplicates, takenOver });
    expect(result.missing).toEqual([7]);
    expect(crashes).toBe(3);
    // Entries running beside the poison when it struck stayed pending, unacknowledged: they run again
    // only once a survivor took them over.
    expect(result.duplicates).toBeLessThanOrEqual(takenOver);
    const [[, fields]] = await ctx.plain.xrange(dead, '-', '+');
    const record = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
    expect(record).toMatchObject({ reason: 'max-deliveries', fields: '["n","7"]' });
  }, POISON_TIMEOUT_MS);

  for (const kind of ['queue', 'stream'] as const) {
    it(`${kind}: SIGTERM under load exits at the shutdown deadline and the next worker handles the rest, none lost`, async () => {
      // Handlers (30 s) outlive the shutdown deadline (500 ms): the worst case, messages are handed back.
      const first = startWorker(kind, { WORK_MS: String(LONG_WORK_MS) });
      await first.ready;
      let sent = 0;
      let producing = true;
      const producer = (async () => {
        while (producing) {
          if (kind === 'queue') await ctx.plain.lpush('pf', JSON.stringify({ id: sent }));
          else await ctx.plain.xadd('pf', '*', 'n', String(sent));
          sent += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      // Signal while handlers are running (not between two batches), so the deadline path is taken.
      await waitFor(async () => (await ctx.plain.llen('started:pf')) >= WINDOW, { description: 'a window of handlers running' });
      first.child.kill('SIGTERM');
      let exitedAt = 0;
      void first.exited.then(() => (exitedAt = Date.now()));
      await waitFor(() => exitedAt > 0, { timeoutMs: LONG_WORK_MS, description: 'the worker to exit before its handlers could end' });
      expect(await first.exited).toBe('SIGTERM');
      // The deadline cut the running handlers short (and said so): none of them finished in this worker.
      const stillRunning = loggedTotal(pool.started, /with (\d+) handler\(s\) of .* still running/);
      expect(stillRunning).toBe(WINDOW);
      expect(await ctx.plain.llen('handled:pf')).toBe(0);
      producing = false;
      await producer;
      await startWorker(kind, { WORK_MS: '1' }).ready;
      if (kind === 'queue') await waitForQueuesIdle(ctx.redis.url, ['pf'], { timeoutMs: DRAIN_BUDGET_MS });
      else await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'pf', group: 'workers' }], { timeoutMs: DRAIN_BUDGET_MS });
      const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
      report(`${kind} SIGTERM under load`, { sent, stillRunning, missing: result.missing.length, duplicates: result.duplicates });
      expect(result.missing).toEqual([]);
      expect(result.unexpected).toEqual([]);
      // Only the handlers cut short at the deadline could have run twice (none did: this worker ended first).
      expect(result.duplicates).toBeLessThanOrEqual(stillRunning);
    }, 2 * BOOT_BUDGET_MS + LONG_WORK_MS + DRAIN_BUDGET_MS);
  }

  it('queue: SIGTERM while Redis is down exits in bounded time; once Redis is back, another worker handles everything', async () => {
    const sent = 100;
    await ctx.plain.lpush('pf', ...Array.from({ length: sent }, (_, id) => JSON.stringify({ id })));
    const first = startWorker('queue', { WORK_MS: '20' });
    await first.ready;
    await waitFor(async () => (await ctx.plain.llen('handled:pf')) >= 8, { description: 'work under way' });
    await ctx.redis.kill();
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    let exitedAt = 0;
    void first.exited.then(() => (exitedAt = Date.now()));
    // The library bounds every wait on Redis at shutdown (fetch, promoter, heartbeat, hand-back: the deadline
    // plus a grace of BROKER_DEFAULTS.stopGraceMs); one wait it did not bound would last ioredis' whole retry budget.
    await waitFor(() => exitedAt > 0, { timeoutMs: IOREDIS_RETRY_BUDGET_MS, description: 'the worker to exit before ioredis gives up on Redis' });
    expect(await first.exited).toBe('SIGTERM');
    // It gave up handing back at the grace, and said so: the reaper of another worker returns its messages.
    expect(first.output()).toContain('Could not hand back the messages of queue "pf"');
    await ctx.redis.start();
    await waitFor(() => ctx.plain.status === 'ready', { description: 'the plain client to reconnect' });
    await startWorker('queue', { WORK_MS: '1' }).ready;
    await waitForQueuesIdle(ctx.redis.url, ['pf'], { timeoutMs: DRAIN_BUDGET_MS });
    const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
    const returned = loggedTotal(pool.started, /stopped heart-beating: (\d+) message/);
    report('queue SIGTERM with Redis down', {
      sent, exitMs: exitedAt - signalledAt, missing: result.missing.length, duplicates: result.duplicates, returnedByReaper: returned,
    });
    expect(result.missing).toEqual([]);
    expect(returned).toBeGreaterThan(0);
    // A repeat ran in the stopped worker and stayed in its processing list (its ack could not reach Redis),
    // so the reaper returned it.
    expect(result.duplicates).toBeLessThanOrEqual(returned);
  }, 2 * BOOT_BUDGET_MS + IOREDIS_RETRY_BUDGET_MS + DRAIN_BUDGET_MS);
});
