import { BROKER_DEFAULTS, QueueKeys, StreamKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { ledger, report } from '../support/ledger.js';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis, WorkerPool } from '../support/worker-pool.js';

const WINDOW = 4;
// Poison scenarios boot one worker process per crash; boots are slow on a loaded 2-core machine.
const POISON_TIMEOUT_MS = 120_000;
const SHUTDOWN_TIMEOUT_MS = 500;

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
      { timeoutMs: 75_000, intervalMs: 100, description: 'the poison message to be quarantined' },
    );
    return crashes;
  }

  it('list queue: the message that kills its worker is quarantined after 3 deaths; the other 59 flow', async () => {
    const sent = 60;
    await ctx.plain.lpush('pf', ...Array.from({ length: sent }, (_, id) => JSON.stringify({ id })));
    const keys = new QueueKeys('pf', '');
    const crashes = await superviseUntil('queue', async () => (await ctx.plain.zcard(keys.deadIndex)) === 1 && (await ctx.plain.llen('pf')) === 0);
    await waitForQueuesIdle(ctx.redis.url, ['pf'], { timeoutMs: 30_000 });
    const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
    report('queue poison', { sent, crashes, missing: result.missing.join(','), duplicates: result.duplicates });
    expect(result.missing).toEqual([7]);
    expect(crashes).toBe(3);
    // First crash: the others running beside the poison, plus acks in flight (at most a window); later
    // crashes none, since a suspect message waits for every ack before it runs alone.
    expect(result.duplicates).toBeLessThanOrEqual(2 * WINDOW - 1);
    const [id] = await ctx.plain.zrange(keys.deadIndex, '0', '-1');
    expect(JSON.parse((await ctx.plain.hget(keys.deadRecords, id))!)).toMatchObject({ reason: 'poison' });
    expect(await ctx.plain.hget(keys.deadMessages, id)).toBe('{"id":7}');
  }, POISON_TIMEOUT_MS);

  it('stream group: the entry that kills its consumer is dead-lettered after 3 deliveries; the other 59 flow', async () => {
    const sent = 60;
    for (let n = 0; n < sent; n += 1) await ctx.plain.xadd('pf', '*', 'n', String(n));
    const dead = new StreamKeys('pf', '').deadLetter('workers');
    const crashes = await superviseUntil('stream', async () => (await ctx.plain.xlen(dead)) === 1);
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'pf', group: 'workers' }], { timeoutMs: 30_000 });
    const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
    report('stream poison', { sent, crashes, missing: result.missing.join(','), duplicates: result.duplicates });
    expect(result.missing).toEqual([7]);
    expect(crashes).toBe(3);
    // Entries running beside the poison when it struck run again after the takeover.
    expect(result.duplicates).toBeLessThanOrEqual(crashes * (WINDOW - 1));
    const [[, fields]] = await ctx.plain.xrange(dead, '-', '+');
    const record = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
    expect(record).toMatchObject({ reason: 'max-deliveries', fields: '["n","7"]' });
  }, POISON_TIMEOUT_MS);

  for (const kind of ['queue', 'stream'] as const) {
    it(`${kind}: SIGTERM under load exits within the shutdown deadline and the next worker handles the rest, none lost`, async () => {
      // Handlers (1000 ms) outlive the shutdown deadline (500 ms): the worst case, messages are handed back.
      const first = startWorker(kind, { WORK_MS: '1000' });
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
      await waitFor(async () => (await ctx.plain.llen('handled:pf')) >= 4, { description: 'work under way' });
      // Signal while handlers are running (not between two batches), so the deadline path is taken.
      const inFlight = async (): Promise<number> => (kind === 'queue'
        ? ctx.plain.llen((await ctx.plain.keys('{pf}:processing:*'))[0] ?? 'none')
        : Number((await ctx.plain.xpending('pf', 'workers'))[0]));
      await waitFor(async () => (await inFlight()) > 0, { description: 'handlers in flight' });
      const signalledAt = Date.now();
      first.child.kill('SIGTERM');
      let exitedAt = 0;
      void first.exited.then(() => (exitedAt = Date.now()));
      // The deadline, plus the hand-back grace, plus process teardown.
      const bound = SHUTDOWN_TIMEOUT_MS + BROKER_DEFAULTS.stopGraceMs;
      await waitFor(() => exitedAt > 0, { timeoutMs: bound + 1_000, description: 'the worker to exit after SIGTERM' });
      expect(await first.exited).toBe('SIGTERM');
      producing = false;
      await producer;
      startWorker(kind, { WORK_MS: '1' });
      if (kind === 'queue') await waitForQueuesIdle(ctx.redis.url, ['pf'], { timeoutMs: 30_000 });
      else await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'pf', group: 'workers' }], { timeoutMs: 30_000 });
      const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
      report(`${kind} SIGTERM under load`, { sent, exitMs: exitedAt - signalledAt, missing: result.missing.length, duplicates: result.duplicates });
      expect(result.missing).toEqual([]);
      expect(result.unexpected).toEqual([]);
      expect(result.duplicates).toBeLessThanOrEqual(WINDOW);
    });
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
    // Waits on Redis (fetch, promoter, heartbeat, hand-back) end by the deadline plus the stop grace; one more grace as slack.
    const bound = SHUTDOWN_TIMEOUT_MS + 2 * BROKER_DEFAULTS.stopGraceMs;
    await waitFor(() => exitedAt > 0, { timeoutMs: bound + 2_000, description: 'the worker to exit although Redis is down' });
    await ctx.redis.start();
    await waitFor(() => ctx.plain.status === 'ready', { description: 'the plain client to reconnect' });
    startWorker('queue', { WORK_MS: '1' });
    await waitForQueuesIdle(ctx.redis.url, ['pf'], { timeoutMs: 30_000 });
    const result = ledger(sent, await ctx.plain.lrange('handled:pf', 0, -1));
    report('queue SIGTERM with Redis down', { sent, exitMs: exitedAt - signalledAt, missing: result.missing.length, duplicates: result.duplicates });
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBeLessThanOrEqual(WINDOW);
  });
});
