import type { INestApplicationContext } from '@nestjs/common';
import { BrokerClient } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';
import { ledger, loggedTotal, report } from '../support/ledger.js';
import { BOOT_BUDGET_MS, DRAIN_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const REQUESTS = 1_000;
const KILL_AFTER = 300;

describe('request-reply while a worker process is SIGKILLed', () => {
  const ctx = useRedis();
  const pool = new WorkerPool();
  let requester: INestApplicationContext | undefined;

  afterEach(async () => {
    await requester?.close();
  });

  it(`answers ${REQUESTS} concurrent requests each with its own reply though one of two workers is SIGKILLed mid-way`, async () => {
    const env = {
      REDIS_URL: ctx.redis.url, KIND: 'queue', NAME: 'rr', CONCURRENCY: '8', WORK_MS: '5', CONSUMER_TTL_MS: '1000', HEARTBEAT_MS: '200',
    };
    const workers = [pool.spawn('fault-worker', env), pool.spawn('fault-worker', env)];
    await Promise.all(workers.map((w) => w.ready));
    ({ app: requester } = await bootBroker({ connection: { url: ctx.redis.url }, producerOnly: true }, []));
    const client = requester.get(BrokerClient);
    const replies = Array.from({ length: REQUESTS }, (_, id) =>
      client.request<{ id: number; square: number }>('rr', { id }, { timeoutMs: 2 * DRAIN_BUDGET_MS + BOOT_BUDGET_MS }));
    await waitFor(async () => (await ctx.plain.llen('handled:rr')) >= KILL_AFTER, { timeoutMs: DRAIN_BUDGET_MS, description: `${KILL_AFTER} handled` });
    const [victim, survivor] = workers;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const answers = await Promise.all(replies);
    expect(answers).toEqual(Array.from({ length: REQUESTS }, (_, id) => ({ id, square: id * id })));
    const runs = ledger(REQUESTS, await ctx.plain.lrange('handled:rr', 0, -1));
    const returned = loggedTotal([survivor], /stopped heart-beating: (\d+) message/);
    report('request-reply SIGKILL x1', { requests: REQUESTS, handled: runs.handled, duplicates: runs.duplicates, returnedByReaper: returned });
    // The kill hit requests in flight: their messages came back through the reaper and were answered by the survivor.
    expect(returned).toBeGreaterThan(0);
    expect(runs.missing).toEqual([]);
  }, 2 * BOOT_BUDGET_MS + 2 * DRAIN_BUDGET_MS);
});
