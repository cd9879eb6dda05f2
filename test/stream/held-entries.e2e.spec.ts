import { beforeAll, describe, expect, it } from 'vitest';
// White-box: which entries a group reader holds decides what the reclaimer
// may take over and what the idle refresher keeps fresh; neither shows
// through the public API until a run is duplicated. Real Redis.
import type { RedisClient } from 'nest-redis-broker';
import { defineBrokerScripts, IdleConsumerPruner, PendingReclaimer, StreamGroupReader, type StreamEntry } from 'nest-redis-broker/internal';
import { useRedis } from '../support/file-redis.js';

describe('a stream group reader holds what it fetched until each entry is released', () => {
  const ctx = useRedis({});
  let reader: StreamGroupReader;

  beforeAll(() => {
    defineBrokerScripts(ctx.plain as RedisClient);
  });

  function newReader(): StreamGroupReader {
    const command = ctx.plain as RedisClient;
    const keys = ['tasks', 'tasks:requeue'];
    const reclaimer = new PendingReclaimer(keys, 'workers', 'a', command, {
      claimIdleMs: 60_000, reclaimIntervalMs: 60_000, backoff: { type: 'fixed', delayMs: 60_000, maxDelayMs: 60_000, jitter: false }, batch: 100,
    }, (key, id) => reader.isHeld(key, id));
    const pruner = new IdleConsumerPruner(keys, 'workers', 'a', command, 3_600_000, 60_000);
    const target = { name: 'tasks', keys, group: 'workers', consumer: 'a', startId: '0', blockTimeoutMs: 100 };
    return new StreamGroupReader(target, command, command, reclaimer, pruner, async () => undefined);
  }

  async function append(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await ctx.plain.xadd('tasks', '*', 'n', String(i));
  }

  const heldCount = (): number => [...reader.heldIds().values()].reduce((sum, ids) => sum + ids.length, 0);
  const held = (entries: StreamEntry[]): boolean[] => entries.map((e) => reader.isHeld(e.key, e.id));

  it('releases entries one by one, across fetches, whatever the order', async () => {
    reader = newReader();
    await append(4);
    const first = await reader.fetch(10);
    expect(first).toHaveLength(4);
    expect(held(first)).toEqual([true, true, true, true]);
    expect(reader.heldIds()).toEqual(new Map([['tasks', first.map((e) => e.id)]]));

    reader.forget(first[1]);
    expect(held(first)).toEqual([true, false, true, true]);
    // Twice is a no-op: the count of the fetch's held entries does not go below what is held.
    reader.forget(first[1]);

    await append(2);
    const second = await reader.fetch(10);
    expect(second).toHaveLength(2);
    expect(heldCount()).toBe(5);

    // Settled entries are not kept for a long run's sake: one of four held, at most two kept.
    for (const entry of [first[3], first[0]]) reader.forget(entry);
    const fetchOf = (entry: StreamEntry): unknown[] => (entry as unknown as { heldIn: { entries: unknown[] } }).heldIn.entries;
    expect(fetchOf(first[2]).length).toBeLessThanOrEqual(2);
    expect(fetchOf(first[2])).toContain(first[2]);
    reader.forget(first[2]);
    expect(held(first)).toEqual([false, false, false, false]);
    expect(held(second)).toEqual([true, true]);
    expect(reader.heldIds()).toEqual(new Map([['tasks', second.map((e) => e.id)]]));

    await reader.handBack(second);
    expect(held(second)).toEqual([false, false]);
    expect(reader.heldIds()).toEqual(new Map());
  });

  it('sees an entry fetched after a lookup (the lookup set is rebuilt)', async () => {
    reader = newReader();
    await append(1);
    const [one] = await reader.fetch(10);
    expect(reader.isHeld(one.key, one.id)).toBe(true);
    await append(1);
    const [two] = await reader.fetch(10);
    expect(reader.isHeld(two.key, two.id)).toBe(true);
    reader.forget(one);
    expect(reader.isHeld(one.key, one.id)).toBe(false);
    expect(reader.isHeld(two.key, two.id)).toBe(true);
  });
});
