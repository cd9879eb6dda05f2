import type { RedisClient } from 'nest-redis-broker';
import { defineBrokerScripts } from 'nest-redis-broker/internal';
import { beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';

const KEYS = ['{q}', '{q}:processing:c1', '{q}:attempts', '{q}:deaths', '{q}:waiting:c1', '{q}:alive:c1'] as const;
const [queue, processing, , , , alive] = KEYS;

describe('the fetch script (fetch.lua) with acks riding it', () => {
  const ctx = useRedis();
  let redis: RedisClient;

  beforeAll(() => {
    redis = ctx.plain as RedisClient;
    defineBrokerScripts(redis);
  });

  async function seed(): Promise<void> {
    // The processing list holds o1 (oldest, right end) to o3; the queue holds m1 (next out) and m2.
    await redis.lpush(processing, 'o1', 'o2', 'o3');
    await redis.lpush(queue, 'm1', 'm2');
  }

  it('cuts the oldest copies first, then moves the new messages in at the newest end', async () => {
    await seed();
    await redis.set(alive, '1');
    const reply = await redis.nrbFetch(...KEYS, 'reliable', 2, 2, 2);
    expect(reply).toEqual([2, '', '2,2', 'm1m2', 2]);
    expect(await redis.lrange(processing, 0, -1)).toEqual(['m2', 'm1', 'o3']);
    expect(await redis.llen(queue)).toBe(0);
  });

  it('refuses the cut (-1) but still fetches when the alive marker is gone: a reaper returned the list', async () => {
    await seed();
    const reply = await redis.nrbFetch(...KEYS, 'reliable', 2, 2, 2);
    expect(reply).toEqual([2, '', '2,2', 'm1m2', -1]);
    expect(await redis.lrange(processing, 0, -1)).toEqual(['m2', 'm1', 'o3', 'o2', 'o1']);
  });

  it('cuts nothing with 0, and reports the messages a blocking pop took before the batch', async () => {
    await seed();
    await redis.set(alive, '1');
    const taken = await redis.lmove(queue, processing, 'RIGHT', 'LEFT');
    const reply = await redis.nrbFetch(...KEYS, 'reliable', 1, 2, 0, taken);
    expect(reply).toEqual([2, '', '2,2', 'm1m2', 0]);
    expect(await redis.lrange(processing, 0, -1)).toEqual(['m2', 'm1', 'o3', 'o2', 'o1']);
  });
});
