import { waitFor } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
// White-box: what a reclaimer remembers is not visible through the public
// API, and the leak it had grows by one entry per takeover, far too slowly
// to see in process memory. The reclaimer runs against a real Redis here.
import type { RedisClient } from 'nest-redis-broker';
import { defineBrokerScripts, PendingReclaimer, type RawStreamEntry } from 'nest-redis-broker/internal';
import { useRedis } from '../support/file-redis.js';

const ENTRIES = 50;
const CLAIM_IDLE_MS = 200;

describe('the pending reclaimer', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  beforeAll(() => {
    defineBrokerScripts(ctx.plain as RedisClient);
  });

  it('forgets the retry delay of a failed entry that another consumer took over and handled', async () => {
    await ctx.plain.xgroup('CREATE', 'tasks', 'workers', '$', 'MKSTREAM');
    for (let i = 0; i < ENTRIES; i += 1) await ctx.plain.xadd('tasks', '*', 'n', String(i));
    const [[, read]] = (await ctx.plain.xreadgroup('GROUP', 'workers', 'a', 'COUNT', ENTRIES, 'STREAMS', 'tasks', '>')) as [string, RawStreamEntry[]][];
    const reclaimer = new PendingReclaimer(['tasks'], 'workers', 'a', ctx.plain as RedisClient, {
      claimIdleMs: CLAIM_IDLE_MS,
      reclaimIntervalMs: 10,
      backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 50, jitter: true },
      batch: 100,
    }, () => false);
    // Consumer "a" fails every entry and waits for its retry; meanwhile "b"
    // takes them all over (a was presumed dead) and handles them.
    for (const [id, fields] of read) reclaimer.scheduleRetry({ key: 'tasks', id, fields, deliveries: 1, requeued: false, heldIn: undefined }, 40);
    await ctx.plain.call('XCLAIM', 'tasks', 'workers', 'b', 0, ...read.map(([id]) => id), 'JUSTID');
    await ctx.plain.xack('tasks', 'workers', ...read.map(([id]) => id));
    const remembered = (): number => (reclaimer as unknown as { retryDelays: Map<string, unknown> }).retryDelays.size;
    expect(remembered()).toBe(ENTRIES);

    await waitFor(async () => {
      expect(await reclaimer.due(100)).toEqual([]);
      return remembered() === 0;
    }, { timeoutMs: 10_000, description: 'the reclaimer to forget the entries consumer "b" took over and handled' });
  });
});
