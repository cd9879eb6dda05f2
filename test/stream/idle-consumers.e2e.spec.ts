import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, Ctx, StreamConsumer, type StreamMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const RESTARTS = 20;
const IDLE_TTL_MS = 300;
const consumersSeen = new Set<string>();
let handled = 0;

@Injectable()
class JobConsumer {
  @StreamConsumer({
    stream: 'jobs', group: 'runners', idleConsumerTtlMs: IDLE_TTL_MS, reclaimIntervalMs: 50, blockTimeoutMs: 100, claimIdleMs: 600_000,
  })
  run(_fields: Record<string, string>, @Ctx() ctx: StreamMessageContext): void {
    consumersSeen.add(ctx.consumer);
    handled += 1;
  }
}

/** Consumer name → pending count, from `XINFO CONSUMERS`. */
async function consumers(redis: Redis, key: string): Promise<Map<string, number>> {
  const rows = (await redis.xinfo('CONSUMERS', key, 'runners')) as (string | number)[][];
  return new Map(rows.map((row) => [String(row[row.indexOf('name') + 1]), Number(row[row.indexOf('pending') + 1])]));
}

describe('idle stream consumers', () => {
  let live: INestApplicationContext | undefined;

  const ctx = useRedis({}, { flushBeforeEach: false });

  afterAll(async () => {
    await live?.close();
  });

  it('deletes the consumers of restarted workers once idle past the bound, keeping the live one and any with pending entries', async () => {
    // A consumer that died holding an entry: it must stay until the entry is taken over.
    await ctx.plain.xgroup('CREATE', 'jobs', 'runners', '$', 'MKSTREAM');
    await ctx.plain.xadd('jobs', '*', 'job', 'held');
    await ctx.plain.xreadgroup('GROUP', 'runners', 'ghost', 'COUNT', 1, 'STREAMS', 'jobs', '>');

    for (let i = 0; i < RESTARTS; i += 1) {
      const { app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: `worker-${i}` }, [JobConsumer]);
      await app.init();
      const before = handled;
      await app.get(BrokerClient).append('jobs', { job: `j-${i}` });
      await waitFor(() => handled === before + 1, { description: `worker-${i} to run its job` });
      await app.close();
    }
    expect(consumersSeen.size).toBe(RESTARTS);

    ({ app: live } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'worker-live' }, [JobConsumer]));
    await live.init();
    await waitFor(async () => [...(await consumers(ctx.plain, 'jobs')).keys()].every((name) => name === 'ghost' || name === 'worker-live'), {
      timeoutMs: 30_000,
      description: 'the restarted workers to leave XINFO CONSUMERS',
    });
    const left = await consumers(ctx.plain, 'jobs');
    expect(left.get('ghost')).toBe(1);
    expect([...left.keys()].filter((name) => name.startsWith('worker-') && name !== 'worker-live')).toEqual([]);
    const requeueConsumers = [...(await consumers(ctx.plain, '{jobs}:requeue:runners')).keys()];
    expect(requeueConsumers.filter((name) => name !== 'worker-live')).toEqual([]);
  });
});
