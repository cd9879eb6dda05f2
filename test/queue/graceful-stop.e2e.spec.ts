import { Redis } from 'ioredis';
import { QueueKeys } from 'nest-redis-broker';
import { afterAll, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';
import { spawnFixture, type FixtureProcess } from '../support/processes.js';

const ROUNDS = 6;
const AT_ONCE = 2;
// Twelve worker processes boot and stop (against a Redis kept busy); a boot
// alone takes seconds on a loaded 2-core machine, and over 10 s at a load of 20.
const TEST_TIMEOUT_MS = ROUNDS * 45_000;
const BUSY_20MS = `local t = redis.call('TIME')
local stop = tonumber(t[1]) * 1000000 + tonumber(t[2]) + 20000
repeat t = redis.call('TIME') until tonumber(t[1]) * 1000000 + tonumber(t[2]) >= stop
return 1`;

describe('reliable queue: a graceful stop', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });
  const started: FixtureProcess[] = [];
  const keys = new QueueKeys('work', '');

  afterAll(async () => {
    for (const worker of started) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });

  it('leaves no consumer entry behind, even with a heartbeat every 10 ms', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const workers = Array.from({ length: AT_ONCE }, () => {
        const worker = spawnFixture('fault-worker', {
          REDIS_URL: ctx.redis.url, KIND: 'queue', NAME: 'work', HEARTBEAT_MS: '10', CONSUMER_TTL_MS: '60000', WORK_MS: '5', CONCURRENCY: '2',
        });
        started.push(worker);
        return worker;
      });
      await Promise.all(workers.map((w) => w.ready));
      // Work in flight, so each stop drains and hands back while heartbeats tick.
      await ctx.plain.lpush('work', ...Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: round * 1000 + i })));
      while ((await ctx.plain.zcard(keys.consumers)) < AT_ONCE) await new Promise((r) => setTimeout(r, 20));
      // Redis kept busy in 20 ms slices: each release waits in line while the
      // worker's 10 ms heartbeat timer fires, the order in which a heartbeat
      // could land after the release.
      const busy = new Redis(ctx.redis.url);
      let stopping = true;
      const hog = (async () => {
        while (stopping) await busy.call('EVAL', BUSY_20MS, '0');
      })();
      for (const worker of workers) worker.child.kill('SIGTERM');
      for (const worker of workers) expect(await worker.exited).toBe('SIGTERM');
      stopping = false;
      await hog;
      busy.disconnect();
      // Every worker released itself and exited: no heartbeat may have re-added it.
      expect(await ctx.plain.zrange(keys.consumers, '0', '-1')).toEqual([]);
    }
  }, TEST_TIMEOUT_MS);
});
