import { waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';

/** What waitForQueuesIdle reports when the queues stay busy for `timeoutMs` (the wait is expected to fail). */
async function timeoutMessage(url: string, queues: string[], timeoutMs: number): Promise<string> {
  const error: unknown = await waitForQueuesIdle(url, queues, { timeoutMs }).then(() => 'idle', (e: unknown) => e);
  return String(error);
}

describe('waitForQueuesIdle', () => {
  const ctx = useRedis();

  it('waits for the processing list of a consumer that is not registered, and counts it', async () => {
    // A consumer that died unregistered leaves its list until a reaper returns it.
    await ctx.plain.lpush('{jobs}:processing:ghost', '{"n":1}', '{"n":2}');
    expect(await timeoutMessage(ctx.redis.url, ['jobs'], 300)).toContain('"processing":2');

    const idle = waitForQueuesIdle(ctx.redis.url, ['jobs'], { timeoutMs: 20_000 });
    await ctx.plain.lmove('{jobs}:processing:ghost', 'jobs', 'RIGHT', 'LEFT');
    await ctx.plain.lmove('{jobs}:processing:ghost', 'jobs', 'RIGHT', 'LEFT');
    expect(await ctx.plain.rpop('jobs', 2)).toEqual(['{"n":1}', '{"n":2}']);
    expect(await idle).toEqual([{ queue: 'jobs', waiting: 0, processing: 0, delayed: 0, dead: 0, consumers: 0 }]);
  });

  it("counts a registered consumer's list once beside the lists it finds", async () => {
    await ctx.plain.zadd('{jobs}:consumers', Date.now() + 60_000, 'alive-one');
    await ctx.plain.lpush('{jobs}:processing:alive-one', '{"n":1}');
    await ctx.plain.lpush('{jobs}:processing:ghost', '{"n":2}');
    expect(await timeoutMessage(ctx.redis.url, ['jobs'], 300)).toContain('"processing":2,"delayed":0,"dead":0,"consumers":1');
  });

  it('ignores the processing lists of another queue that the name would match as a glob', async () => {
    // "jobs*" as a glob would match "{jobs-other}"; the name is escaped in the pattern.
    await ctx.plain.lpush('{jobs-other}:processing:ghost', '{"n":3}');
    expect(await waitForQueuesIdle(ctx.redis.url, ['jobs*'], { timeoutMs: 20_000 })).toEqual([
      { queue: 'jobs*', waiting: 0, processing: 0, delayed: 0, dead: 0, consumers: 0 },
    ]);
  });
});
