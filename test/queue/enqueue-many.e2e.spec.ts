import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, EnqueueManyError } from 'nest-redis-broker';
import { startRedisServer, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';

/** Five LPUSH chunks of 1000 messages of about 1 KiB. */
const payloads = Array.from({ length: 5_000 }, (_, id) => ({ id, pad: 'x'.repeat(1_000) }));

async function rejection(call: Promise<unknown>): Promise<EnqueueManyError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(EnqueueManyError);
  return error as EnqueueManyError;
}

describe('enqueueMany stores a whole batch or none of it', () => {
  let redis: RedisServerHandle;
  let plain: Redis;
  let app: INestApplicationContext;
  let client: BrokerClient;

  beforeAll(async () => {
    redis = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
    plain = new Redis(redis.url);
    plain.on('error', () => undefined); // Redis is killed on purpose below
    ({ app } = await bootBroker({ connection: { url: redis.url, redis: { maxRetriesPerRequest: 1 } }, producerOnly: true }, []));
    client = app.get(BrokerClient);
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  it('stores nothing of a batch that reaches maxmemory part way, says so, and a retry stores each message once, in order', async () => {
    // Room for about two of the five chunks.
    const usedMemory = Number(/used_memory:(\d+)/.exec(await plain.info('memory'))![1]);
    await plain.config('SET', 'maxmemory', String(usedMemory + 2 * 1024 * 1024));

    try {
      const error = await rejection(client.enqueueMany('batch', payloads));
      expect(await plain.llen('batch')).toBe(0);
      expect(error).toMatchObject({ queue: 'batch', count: 5_000, stored: 0 });
      expect(error.message).toMatch(/OOM|EXECABORT/);
      expect(error.message).toContain('None of its 5000 messages was stored');
    } finally {
      await plain.config('SET', 'maxmemory', '0');
    }
    expect(await client.enqueueMany('batch', payloads)).toBe(5_000);
    expect(await plain.llen('batch')).toBe(5_000);
    // Consumers take from the right: the first payload first.
    expect(JSON.parse((await plain.lindex('batch', -1))!)).toMatchObject({ id: 0 });
    expect(JSON.parse((await plain.lindex('batch', 0))!)).toMatchObject({ id: 4_999 });
    await plain.del('batch');
  });

  it('stores nothing when Redis refuses every command of the batch (WRONGTYPE)', async () => {
    await plain.set('not-a-list', 'x');
    const error = await rejection(client.enqueueMany('not-a-list', payloads));
    expect(error).toMatchObject({ queue: 'not-a-list', count: 5_000, stored: 0 });
    expect(error.message).toContain('WRONGTYPE');
    expect(await plain.get('not-a-list')).toBe('x');
  });

  it('says the outcome is unknown (all or none) when the connection fails', async () => {
    await redis.kill();
    try {
      const error = await rejection(client.enqueueMany('batch', payloads.slice(0, 10)));
      expect(error).toMatchObject({ queue: 'batch', count: 10, stored: null });
      expect(error.message).toContain('Redis stored all 10 messages or none');
    } finally {
      await redis.start();
    }
  });
});
