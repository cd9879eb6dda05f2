import type { RedisClient } from 'nest-redis-broker';
import { defineBrokerScripts } from 'nest-redis-broker/internal';
import { beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';

type PendingRow = [string, string, number, number];

describe('the stream idle-refresh script (stream-refresh-idle.lua)', () => {
  const ctx = useRedis();
  let redis: RedisClient;

  beforeAll(() => {
    redis = ctx.plain as RedisClient;
    defineBrokerScripts(redis);
  });

  async function pending(): Promise<PendingRow[]> {
    return (await redis.xpending('jobs', 'g', '-', '+', 10)) as PendingRow[];
  }

  it("resets the idle time of the caller's own entries without counting a delivery", async () => {
    await redis.xgroup('CREATE', 'jobs', 'g', '0', 'MKSTREAM');
    const id = (await redis.xadd('jobs', '*', 'n', '1')) as string;
    await redis.xreadgroup('GROUP', 'g', 'mine', 'COUNT', 1, 'STREAMS', 'jobs', '>');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await pending())[0][2]).toBeGreaterThanOrEqual(50);
    expect(await redis.nrbStreamRefreshIdle('jobs', 'g', 'mine', id)).toBe(1);
    const [[entryId, consumer, idle, deliveries]] = await pending();
    expect({ entryId, consumer, deliveries }).toEqual({ entryId: id, consumer: 'mine', deliveries: 1 });
    expect(idle).toBeLessThan(50);
  });

  it('never takes back an entry another consumer has taken over, nor claims one nobody holds', async () => {
    await redis.xgroup('CREATE', 'jobs', 'g', '0', 'MKSTREAM');
    const taken = (await redis.xadd('jobs', '*', 'n', '1')) as string;
    const acked = (await redis.xadd('jobs', '*', 'n', '2')) as string;
    await redis.xreadgroup('GROUP', 'g', 'mine', 'COUNT', 2, 'STREAMS', 'jobs', '>');
    await redis.call('XCLAIM', 'jobs', 'g', 'other', 0, taken);
    await redis.xack('jobs', 'g', acked);
    expect(await redis.nrbStreamRefreshIdle('jobs', 'g', 'mine', taken, acked)).toBe(0);
    expect((await pending()).map(([id, consumer, , deliveries]) => [id, consumer, deliveries])).toEqual([[taken, 'other', 2]]);
  });
});
