import { Injectable, type INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { QueueHandler } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/worker-pool.js';

const handled: string[] = [];

@Injectable()
class IdleHandlers {
  @QueueHandler('idle-reliable', { concurrency: 4, blockTimeoutMs: 2_000 })
  reliable(payload: { n: string }): void {
    handled.push(`r${payload.n}`);
  }

  @QueueHandler('idle-fast', { mode: 'fast', concurrency: 4, blockTimeoutMs: 2_000 })
  fast(payload: { n: string }): void {
    handled.push(`f${payload.n}`);
  }
}

/** Calls of each command since the last CONFIG RESETSTAT. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(match[1], Number(match[2]));
  return calls;
}

describe('a consumer with nothing to do', () => {
  const ctx = useRedis();
  let app: INestApplicationContext;

  beforeAll(async () => {
    ({ app } = await bootBroker({ connection: { url: ctx.redis.url }, heartbeatIntervalMs: 60_000, consumerTtlMs: 120_000, delayedPollMs: 60_000 }, [IdleHandlers]));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('waits in one blocking pop per block timeout instead of polling, and wakes for the next message', async () => {
    const { plain } = ctx;
    // A first message each, so both loops are past their start-up and have emptied their queue.
    await plain.lpush('idle-reliable', JSON.stringify({ n: '0' }));
    await plain.lpush('idle-fast', JSON.stringify({ n: '0' }));
    await waitFor(() => handled.length === 2, { description: 'the first messages' });
    await plain.config('RESETSTAT');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = await commandCalls(plain);
    // Within one block timeout each loop sits in a single BLMOVE / BRPOP: no script runs, nothing is polled.
    expect(idle.get('evalsha') ?? 0).toBe(0);
    expect((idle.get('blmove') ?? 0) + (idle.get('brpop') ?? 0)).toBeLessThanOrEqual(2);
    await plain.lpush('idle-reliable', JSON.stringify({ n: '1' }));
    await plain.lpush('idle-fast', JSON.stringify({ n: '1' }));
    await waitFor(() => handled.includes('r1') && handled.includes('f1'), { description: 'the messages that end the wait' });
  });
});
