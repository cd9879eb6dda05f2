import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { defineBrokerScripts } from 'nest-redis-broker/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';

// The rate window's scripts (rate-acquire, rate-drop, rate-commit), called directly against a real Redis.
describe('the rate window scripts', () => {
  const ctx = useRedis();
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(ctx.redis.url);
    defineBrokerScripts(redis);
  });

  afterAll(() => redis?.disconnect());

  async function acquire(
    key: string, max: number, wanted: number, perMs: number, hold: number, lead: number, catchUp = 0,
  ): Promise<{ id: string; granted: number; waitMs: number; offsets: number[] }> {
    const id = randomBytes(6).toString('hex');
    const [granted, waitMs, ...offsets] = (await redis.nrbRateAcquire(key, max, wanted, perMs, hold, id, lead, catchUp)).map(Number);
    return { id, granted, waitMs, offsets };
  }

  async function scores(key: string): Promise<Map<string, number>> {
    const flat = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    const map = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i], Number(flat[i + 1]));
    return map;
  }

  it('dates a slot taken ahead at the moment it frees (the oldest start + perMs), not at the call', async () => {
    const perMs = 400;
    const first = await acquire('w1', 3, 3, perMs, 0, 0);
    expect(first.granted).toBe(3);
    const taken = await scores('w1');
    const oldest = Math.min(...taken.values());
    // Without a lead nothing frees now: the answer is how long until the oldest leaves the window.
    const none = await acquire('w1', 3, 1, perMs, 0, 0);
    expect(none.granted).toBe(0);
    expect(none.waitMs).toBeGreaterThan(0);
    expect(none.waitMs).toBeLessThanOrEqual(perMs);
    // With a lead as long as the window, all three next slots are granted, each dated when one frees.
    const ahead = await acquire('w1', 3, 5, perMs, 0, perMs);
    expect(ahead.granted).toBe(3);
    const after = await scores('w1');
    const dated = [1, 2, 3].map((n) => after.get(`${ahead.id}:${n}`));
    expect(dated).toEqual([...taken.values()].sort((a, b) => a - b).map((at) => at + perMs));
    expect(dated[0]).toBe(oldest + perMs);
    expect(ahead.offsets).toHaveLength(3);
    expect([...ahead.offsets].sort((a, b) => a - b)).toEqual(ahead.offsets);
    for (const offset of ahead.offsets) expect(offset).toBeGreaterThan(0);
    // Dropped slots free their place: one more is granted, dated at the same moment.
    expect(await redis.nrbRateDrop('w1', ahead.id, 3)).toBe(1);
    const again = await acquire('w1', 3, 1, perMs, 0, perMs);
    expect(again.granted).toBe(1);
    expect((await scores('w1')).get(`${again.id}:1`)).toBe(dated[2]);
  });

  it('paces slots taken ahead perMs/max apart while the window has room, so a backlog fills it evenly; without a lead it does not', async () => {
    const paced = await acquire('w3', 10, 10, 1_000, 0, 50);
    // One slot every 100 ms: now, and the next within the 50 ms lead is none.
    expect(paced.offsets).toEqual([0]);
    const next = await acquire('w3', 10, 1, 1_000, 0, 50);
    expect(next.granted).toBe(0);
    expect(next.waitMs).toBeGreaterThan(0);
    expect(next.waitMs).toBeLessThanOrEqual(50);
    const wide = await acquire('w3', 10, 3, 1_000, 0, 400);
    const dated = await scores('w3');
    const first = dated.get(`${paced.id}:1`) ?? 0;
    expect([1, 2, 3].map((n) => (dated.get(`${wide.id}:${n}`) ?? 0) - first)).toEqual([100, 200, 300]);
    const burst = await acquire('w4', 10, 10, 1_000, 0, 0);
    expect(burst.offsets).toEqual(Array.from({ length: 10 }, () => 0));
  });

  async function redisNow(): Promise<number> {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  it('dates back a slot that freed while nobody claimed it (a stall), by at most catchUp, and only behind every start', async () => {
    // One slot per 100 ms (max 10 per 1000 ms), a 50 ms lead: a backlog's consumer.
    const first = await acquire('w5', 10, 1, 1_000, 0, 50, 50);
    expect(first.offsets).toEqual([0]);
    // A stall: the slots of the next 300 ms free and nobody claims them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await redisNow();
    const late = await acquire('w5', 10, 10, 1_000, 0, 50, 50);
    // Asked right after (unless this host stalls 200 ms in between): the slots just claimed are on
    // time, so nothing is left to catch up and the next slot is paced after them, not dated back.
    const onTime = await acquire('w5', 10, 1, 1_000, 0, 200, 50);
    const after = await redisNow();
    // The first is dated 50 ms back (started at once: offset 0), the next paced 100 ms later, within the lead.
    expect(late.offsets).toEqual([0, expect.any(Number)]);
    const dated = await scores('w5');
    const back = dated.get(`${late.id}:1`) ?? 0;
    expect(back).toBeGreaterThanOrEqual(before - 50);
    expect(back).toBeLessThanOrEqual(after - 50);
    expect((dated.get(`${late.id}:2`) ?? 0) - back).toBe(100);
    expect(onTime.granted).toBe(1);
    expect(dated.get(`${onTime.id}:1`)).toBe(back + 200);
    // Without catchUp the same stall dates the slot at the call.
    await acquire('w6', 10, 1, 1_000, 0, 50, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const start = await redisNow();
    const plain = await acquire('w6', 10, 10, 1_000, 0, 50, 0);
    expect(plain.offsets).toEqual([0]);
    expect((await scores('w6')).get(`${plain.id}:1`)).toBeGreaterThanOrEqual(start);
  });

  it('never dates more than max starts in any window of perMs, whatever mix of slots ahead, drops, holds and commits', async () => {
    const key = 'w2';
    const max = 5;
    const perMs = 120;
    const seen = new Map<string, number>();
    const dropped = new Set<string>();
    const record = async (): Promise<void> => {
      for (const [member, at] of await scores(key)) seen.set(member, at);
    };
    let rounds = 0;
    let grantedAhead = 0;
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      rounds += 1;
      const roll = rounds % 7;
      if (roll === 3) {
        // A blocked fetch's hold reservation, committed (re-dated) by its return.
        const hold = await acquire(key, max, 2, perMs, 60_000, 0);
        await record();
        await new Promise((resolve) => setTimeout(resolve, rounds % 3 * 7));
        await redis.nrbRateCommit(key, hold.id, rounds % 2, hold.granted, perMs);
        for (let n = (rounds % 2) + 1; n <= hold.granted; n += 1) dropped.add(`${hold.id}:${n}`);
      } else {
        // Some rounds may date slots back (catchUp), after the pauses below.
        const grant = await acquire(key, max, 1 + (rounds % 4), perMs, 0, roll === 5 ? 0 : 40, roll === 2 || roll === 6 ? 30 : 0);
        grantedAhead += grant.granted;
        if (grant.granted > 1 && roll === 1) {
          await redis.nrbRateDrop(key, grant.id, grant.granted);
          dropped.add(`${grant.id}:${grant.granted}`);
        }
      }
      await record();
      if (rounds % 5 === 0) await new Promise((resolve) => setTimeout(resolve, rounds % 11));
    }
    const times = [...seen].filter(([member]) => !dropped.has(member)).map(([, at]) => at).sort((a, b) => a - b);
    // Any max + 1 consecutive starts span at least perMs: no interval (t - perMs, t] holds more than max.
    let tightest = Number.POSITIVE_INFINITY;
    for (let i = 0; i + max < times.length; i += 1) tightest = Math.min(tightest, times[i + max] - times[i]);
    expect(grantedAhead).toBeGreaterThan(max * 4);
    expect(times.length).toBeGreaterThan(max * 4);
    expect(tightest).toBeGreaterThanOrEqual(perMs);
  });
});
