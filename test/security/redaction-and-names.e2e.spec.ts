import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, InvalidBrokerOptionsError, QueueHandler, StreamConsumer, type RedisBrokerModuleOptions } from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';

const PASSWORD = 'hunter2-Sup3rSecret';

@Injectable()
class IdleHandlers {
  @QueueHandler('jobs', { blockTimeoutMs: 100 })
  job(): void {}

  @StreamConsumer({ stream: 'events', group: 'g', blockTimeoutMs: 100 })
  event(): void {}
}

describe('no secrets in logs or errors', () => {
  let redis: RedisServerHandle;

  beforeAll(async () => {
    redis = await startRedisServer({ args: ['--user', 'app', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'] });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('logs connection failures to a dead port without the password of the URL', async () => {
    const port = await freePort();
    const { app, logger } = await bootBroker({ connection: { url: `redis://app:${PASSWORD}@127.0.0.1:${port}` }, shutdownTimeoutMs: 200 }, [IdleHandlers]);
    try {
      await waitFor(() => logger.lines.filter((l) => l.level === 'error').length >= 3, { description: 'connection errors of several connections' });
      expect(logger.text()).toContain(`redis://app:***@127.0.0.1:${port}`);
      expect(logger.text()).not.toContain(PASSWORD);
    } finally {
      await app.close();
    }
    expect(logger.text()).not.toContain(PASSWORD);
  });

  it('logs a rejected password (WRONGPASS) without it, given in the URL or in the redis options', async () => {
    const wrong = `${PASSWORD}-wrong`;
    for (const connection of [
      { url: `redis://app:${wrong}@127.0.0.1:${redis.port}` },
      { redis: { host: '127.0.0.1', port: redis.port, username: 'app', password: wrong } },
    ] satisfies RedisBrokerModuleOptions['connection'][]) {
      const { app, logger } = await bootBroker({ connection }, [IdleHandlers]);
      try {
        await waitFor(() => /WRONGPASS|invalid username-password/.test(logger.text()), { description: 'the auth error' });
        expect(logger.text()).not.toContain(wrong);
        expect(logger.text()).not.toContain(PASSWORD);
      } finally {
        await app.close();
      }
    }
  });
});

describe('key names built from user input', () => {
  let redis: RedisServerHandle;
  let plain: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
  });

  afterAll(async () => {
    plain?.disconnect();
    await redis?.stop();
  });

  const badNames = ['', 'a'.repeat(201), 'two words', 'tab\there', 'line\nbreak', 'bell\u0007', 'del\u007f', 'a{b}', '{tag}', 'close}'];

  it('rejects queue and stream names, dedup keys and groups that are empty, too long, or hold white space, control characters or braces', async () => {
    const { app } = await bootBroker({ connection: { url: redis.url }, keyPrefix: 'app:', producerOnly: true }, []);
    const client = app.get(BrokerClient);
    try {
      for (const name of badNames) {
        await expect(client.enqueue(name, { id: 1 })).rejects.toThrow(InvalidBrokerOptionsError);
        await expect(client.enqueueMany(name, [{ id: 1 }])).rejects.toThrow(InvalidBrokerOptionsError);
        await expect(client.append(name, { n: '1' })).rejects.toThrow(InvalidBrokerOptionsError);
        await expect(client.enqueue('ok', { id: 1 }, { dedupKey: name })).rejects.toThrow(InvalidBrokerOptionsError);
      }
      await expect(client.enqueue(42 as unknown as string, { id: 1 })).rejects.toThrow(/Invalid queue name 42/);
      // Nothing was written for any rejected name.
      expect(await plain.keys('*')).toEqual([]);
      // The longest accepted name, with the prefix in front.
      await client.enqueue('a'.repeat(200), { id: 1 });
      expect(await plain.keys('*')).toEqual([`app:${'a'.repeat(200)}`]);
    } finally {
      await app.close();
    }
  });
});
