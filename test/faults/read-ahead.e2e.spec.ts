import { QueueKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { ledger } from '../support/ledger.js';
import type { FixtureProcess } from '../support/processes.js';
import { useRedis } from '../support/file-redis.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

// Read-ahead (issue #18): a consumer holds concurrency + readAhead messages, the read-ahead ones
// fetched before a slot frees. These tests pin what it may hold and what a stop or a crash does with them.
const TOTAL = 30;
const CONCURRENCY = 2;
const READ_AHEAD = 3;
const HELD = CONCURRENCY + READ_AHEAD;
// Long enough that the state with 2 running and 3 read ahead lasts while the test looks at it, and
// (streams) longer than the fixture's claimIdleMs of 1 s, so read-ahead entries must be kept fresh.
const WORK_MS = 3_000;
// The stream drain after the kill: c2 alone, and the entries it takes over from c1 run one at a time
// (a taken-over entry runs alone: it may be what killed c1), so at worst every entry runs serially.
const STREAM_DRAIN_MS = TOTAL * WORK_MS;
const TEST_TIMEOUT_MS = 2 * BOOT_BUDGET_MS + 2 * DRAIN_BUDGET_MS + STREAM_DRAIN_MS;

describe('a consumer reading ahead of its free slots', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();

  function spawn(kind: 'queue' | 'stream', name: string, consumer: string, workMs = WORK_MS): FixtureProcess {
    return pool.spawn('fault-worker', {
      REDIS_URL: ctx.redis.url, KIND: kind, NAME: name, CONSUMER: consumer, CONCURRENCY: String(CONCURRENCY),
      READ_AHEAD: String(READ_AHEAD), WORK_MS: String(workMs), CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200', CLAIM_IDLE_MS: '1000',
    });
  }

  async function list(key: string): Promise<string[]> {
    return ctx.plain.lrange(key, 0, -1);
  }

  async function fillQueue(name: string, count = TOTAL): Promise<void> {
    await ctx.plain.lpush(name, ...Array.from({ length: count }, (_, id) => JSON.stringify({ id })));
  }

  /** The one consumer id registered on the queue. */
  async function consumerOf(keys: QueueKeys): Promise<string> {
    let consumer = '';
    await waitFor(async () => ([consumer = ''] = await ctx.plain.zrange(keys.consumers, '0', '-1')).length === 1, {
      timeoutMs: BOOT_BUDGET_MS, description: 'the worker to register',
    });
    return consumer;
  }

  /** Reliable queue: 2 running and 3 read ahead, all 5 in the processing list and none recorded as waiting. */
  async function untilReadAhead(name: string, keys: QueueKeys, consumer: string): Promise<void> {
    await waitFor(async () => (await ctx.plain.llen(`started:${name}`)) === CONCURRENCY
      && (await ctx.plain.llen(keys.processing(consumer))) === HELD, { timeoutMs: BOOT_BUDGET_MS, description: `2 running and 3 read ahead on ${name}` });
    // Read ahead, they count as starting: a crash blames them as it blames the running ones.
    expect(await ctx.plain.hlen(keys.waiting(consumer))).toBe(0);
  }

  it('reliable queue: never holds more than concurrency + readAhead messages, plus acks in flight, while it drains', { timeout: TEST_TIMEOUT_MS }, async () => {
    await fillQueue('ra-flow', 60);
    const keys = new QueueKeys('ra-flow', '');
    await spawn('queue', 'ra-flow', 'c1', 20).ready;
    const consumer = await consumerOf(keys);
    let most = 0;
    await waitFor(async () => {
      most = Math.max(most, await ctx.plain.llen(keys.processing(consumer)));
      return (await ctx.plain.llen('handled:ra-flow')) === 60;
    }, { timeoutMs: DRAIN_BUDGET_MS, intervalMs: 5, description: 'all 60 handled' });
    // A handled message frees its slot when its ack is sent; its copy leaves the list when the ack
    // lands: at most max(prefetch, concurrency) such copies beside the held ones.
    expect(most).toBeLessThanOrEqual(HELD + CONCURRENCY);
    // It did read ahead: more held than it runs.
    expect(most).toBeGreaterThan(CONCURRENCY);
    expect(ledger(60, await list('handled:ra-flow'))).toMatchObject({ missing: [], duplicates: 0 });
  });

  it('reliable queue: SIGTERM finishes the running messages and hands the read-ahead ones back, in order', { timeout: TEST_TIMEOUT_MS }, async () => {
    await fillQueue('ra-stop');
    const keys = new QueueKeys('ra-stop', '');
    const worker = spawn('queue', 'ra-stop', 'c1');
    await worker.ready;
    await untilReadAhead('ra-stop', keys, await consumerOf(keys));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe('SIGTERM');
    const handled = (await list('handled:ra-stop')).map(Number);
    expect(handled.sort((a, b) => a - b)).toEqual([0, 1]);
    // The consuming end is the right: the read-ahead messages (2, 3, 4) come first again.
    const queue = (await list('ra-stop')).reverse().map((m) => (JSON.parse(m) as { id: number }).id);
    expect(queue).toEqual([...Array(TOTAL).keys()].slice(CONCURRENCY));
    expect(await ctx.plain.keys('{ra-stop}:*')).toEqual([]);
  });

  it('reliable queue: a SIGKILL with messages read ahead loses none and runs again only the ones that were running', { timeout: TEST_TIMEOUT_MS }, async () => {
    await fillQueue('ra-kill');
    const keys = new QueueKeys('ra-kill', '');
    const victim = spawn('queue', 'ra-kill', 'c1');
    await victim.ready;
    await untilReadAhead('ra-kill', keys, await consumerOf(keys));
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    await spawn('queue', 'ra-kill', 'c2', 20).ready;
    await waitForQueuesIdle(ctx.redis.url, ['ra-kill'], { timeoutMs: DRAIN_BUDGET_MS });
    expect(ledger(TOTAL, await list('handled:ra-kill'))).toMatchObject({ missing: [], duplicates: 0, unexpected: [] });
    // Started twice: at most the two it was running, never one it had only read ahead.
    const started = await list('started:ra-kill');
    const twice = [...new Set(started)].filter((n) => started.filter((s) => s === n).length > 1).map(Number);
    expect(twice.every((n) => n < CONCURRENCY)).toBe(true);
  });

  it('stream: read-ahead entries stay pending under their consumer, kept from takeover, and a SIGKILL loses none', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (let n = 0; n < TOTAL; n += 1) await ctx.plain.xadd('ra-stream', '*', 'n', String(n));
    const victim = spawn('stream', 'ra-stream', 'c1');
    await victim.ready;
    const pendingOf = async (consumer: string): Promise<number> =>
      (await ctx.plain.xpending('ra-stream', 'workers', '-', '+', 100, consumer)).length;
    await waitFor(async () => (await ctx.plain.llen('started:ra-stream')) === CONCURRENCY && (await pendingOf('c1')) === HELD, {
      timeoutMs: BOOT_BUDGET_MS, description: '2 running and 3 read ahead, all pending under c1',
    });
    await spawn('stream', 'ra-stream', 'c2').ready;
    // c1's read-ahead entries start only after its first two ran 3 s, past claimIdleMs (1 s):
    // c2 reclaims every 100 ms and would take them over unless c1 kept them fresh.
    await waitFor(async () => (await list('started:ra-stream')).filter((n) => Number(n) < HELD).length >= HELD, {
      timeoutMs: DRAIN_BUDGET_MS, description: 'the five entries c1 held to start',
    });
    const startedWhileHeld = await list('started:ra-stream');
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'ra-stream', group: 'workers' }], { timeoutMs: STREAM_DRAIN_MS });
    expect(ledger(TOTAL, await list('handled:ra-stream'))).toMatchObject({ missing: [], unexpected: [] });
    // Each of the five entries c1 held at first had started once by the kill: read ahead, none was
    // taken over while held. (The one still running at the kill runs again after it, at-least-once.)
    for (let n = 0; n < HELD; n += 1) expect(startedWhileHeld.filter((s) => s === String(n))).toHaveLength(1);
  });
});
