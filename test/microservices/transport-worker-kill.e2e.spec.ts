import { RedisBrokerClientProxy } from 'nest-redis-broker/microservices';
import { waitFor } from 'nest-redis-broker/testing';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';
import { ledger, loggedTotal, report } from '../support/ledger.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const REQUESTS = 300;
const KILL_AFTER = 100;

describe('ClientProxy.send() while a RedisBrokerServer worker process is SIGKILLed', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();
  let client: RedisBrokerClientProxy | undefined;

  afterEach(async () => {
    await client?.close();
  });

  it(`gets a reply to each of ${REQUESTS} concurrent send() calls though one of two workers is SIGKILLed mid-way`, async () => {
    const env = { REDIS_URL: ctx.redis.url, NAME: 'ms-rr', CONCURRENCY: '8', WORK_MS: '5', CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200' };
    const workers = [pool.spawn('transport-worker', env), pool.spawn('transport-worker', env)];
    await Promise.all(workers.map((w) => w.ready));
    client = new RedisBrokerClientProxy({ connection: { url: ctx.redis.url }, timeoutMs: 2 * DRAIN_BUDGET_MS + BOOT_BUDGET_MS });
    const proxy = client;
    const replies = Array.from({ length: REQUESTS }, (_, id) => lastValueFrom(proxy.send<{ id: number; square: number }>('ms-rr', { id })));
    await waitFor(async () => (await ctx.plain.llen('handled:ms-rr')) >= KILL_AFTER, { timeoutMs: DRAIN_BUDGET_MS, description: `${KILL_AFTER} handled` });
    const [victim, survivor] = workers;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const answers = await Promise.all(replies);
    expect(answers).toEqual(Array.from({ length: REQUESTS }, (_, id) => ({ id, square: id * id })));
    const runs = ledger(REQUESTS, await ctx.plain.lrange('handled:ms-rr', 0, -1));
    const returned = loggedTotal([survivor], /stopped heart-beating: (\d+) message/);
    report('transport send() SIGKILL x1', { requests: REQUESTS, handled: runs.handled, duplicates: runs.duplicates, returnedByReaper: returned });
    // The kill hit requests in flight: their messages came back through the reaper and were answered by the survivor.
    expect(returned).toBeGreaterThan(0);
    expect(runs.missing).toEqual([]);
  }, 2 * BOOT_BUDGET_MS + 2 * DRAIN_BUDGET_MS);
});
