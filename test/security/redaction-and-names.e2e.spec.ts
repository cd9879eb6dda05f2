import { inspect } from 'node:util';
import { Injectable } from '@nestjs/common';
import { BrokerClient, InvalidBrokerOptionsError, QueueHandler, redactUrl, StreamConsumer, type RedisBrokerModuleOptions } from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, CapturingLogger } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const PASSWORD = 'hunter2-Sup3rSecret';
// A password with an unencoded `@`: a redactor stopping at the first `@` printed its second half.
const AT_PASSWORD = 'hunter2@Sup3rSecret';
const SECRET_PARTS = ['hunter2', 'Sup3rSecret'];

/** Keeps the stack Nest passes with an error, so a secret in it is seen too. */
class TracingLogger extends CapturingLogger {
  override error(message: unknown, trace?: string, context?: string): void {
    super.error(trace ? `${String(message)}\n${trace}` : message, undefined, context);
  }
}

function expectNoSecret(text: string): void {
  for (const part of SECRET_PARTS) expect(text).not.toContain(part);
}

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

  it('redacts every URL form, keeping the user name, host, port and database', () => {
    const forms: [string, string][] = [
      [`redis://app:${PASSWORD}@127.0.0.1:6379/2`, 'redis://app:***@127.0.0.1:6379/2'],
      [`redis://:${AT_PASSWORD}@127.0.0.1:6379`, 'redis://***@127.0.0.1:6379'],
      [`rediss://app:${AT_PASSWORD}@cache.example.com:6380`, 'rediss://app:***@cache.example.com:6380'],
      [`http://admin:${PASSWORD}@127.0.0.1:6379`, 'http://admin:***@127.0.0.1:6379'],
      [`redis://${PASSWORD}@127.0.0.1:6379`, 'redis://***@127.0.0.1:6379'],
      [`redis://127.0.0.1:6379?db=1&password=${PASSWORD}`, 'redis://127.0.0.1:6379?db=1&password=***'],
      [`app:${AT_PASSWORD}@127.0.0.1:7000`, 'app:***@127.0.0.1:7000'],
      ['127.0.0.1:7000', '127.0.0.1:7000'],
      // Not URLs ioredis can parse: hidden up to the last `@`.
      [`redis://:${AT_PASSWORD}@127.0.0.1:port`, 'redis://***@127.0.0.1:port'],
      [`redis://app:hunter2/Sup3rSecret@127.0.0.1:6379`, 'redis://***@127.0.0.1:6379'],
      [`redis://127.0.0.1:6379?password=${AT_PASSWORD}`, 'redis://***'],
    ];
    for (const [url, shown] of forms) {
      expect(redactUrl(url)).toBe(shown);
      expectNoSecret(redactUrl(url));
    }
  });

  it('logs no part of a password holding an @, in a URL, its query or a Cluster node string', async () => {
    const port = await freePort();
    for (const connection of [
      { url: `redis://:${AT_PASSWORD}@127.0.0.1:${port}` },
      { url: `redis://127.0.0.1:${port}?password=${encodeURIComponent(AT_PASSWORD)}` },
      { cluster: { nodes: [`redis://app:${AT_PASSWORD}@127.0.0.1:${port}`, `app:${AT_PASSWORD}@127.0.0.1:${port}`] } },
    ] satisfies RedisBrokerModuleOptions['connection'][]) {
      const logger = new TracingLogger();
      const { app } = await bootBroker({ connection, shutdownTimeoutMs: 200 }, [IdleHandlers], { logger });
      try {
        await waitFor(() => logger.lines.filter((l) => l.level === 'error').length >= 2, { description: 'connection errors' });
      } finally {
        await app.close();
      }
      expect(logger.text()).toMatch(/127\.0\.0\.1/);
      expectNoSecret(logger.text());
    }
  });

  it('refuses a URL or Cluster node ioredis cannot parse with an error that holds no part of the password', async () => {
    const port = await freePort();
    for (const [connection, option] of [
      [{ url: `redis://:${AT_PASSWORD}@127.0.0.1:notaport` }, 'connection.url'],
      [{ url: `redis://app:hunter2/Sup3rSecret@127.0.0.1:${port}` }, 'connection.url'],
      [{ cluster: { nodes: ['127.0.0.1:7000', `redis://:${AT_PASSWORD}@127.0.0.1:notaport`] } }, 'connection.cluster.nodes[1]'],
      [{ cluster: { nodes: `redis://app:${PASSWORD}@127.0.0.1:${port}` as never } }, 'connection.cluster.nodes'],
    ] satisfies [RedisBrokerModuleOptions['connection'], string][]) {
      const logger = new TracingLogger();
      const error: unknown = await bootBroker({ connection }, [IdleHandlers], { logger }).then(
        () => new Error('booted'),
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
      expect((error as Error).message).toContain(`"${option}"`);
      // inspect shows every own property, e.g. the `input` of a URL parse error, and the cause.
      expectNoSecret(inspect(error, { depth: 5 }));
      expectNoSecret(logger.text());
    }
  });

});

describe('key names built from user input', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  const badNames = ['', 'a'.repeat(201), 'two words', 'tab\there', 'line\nbreak', 'bell\u0007', 'del\u007f', 'a{b}', '{tag}', 'close}'];

  it('rejects queue and stream names, dedup keys and groups that are empty, too long, or hold white space, control characters or braces', async () => {
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, keyPrefix: 'app:', producerOnly: true }, []);
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
      expect(await ctx.plain.keys('*')).toEqual([]);
      // The longest accepted name, with the prefix in front.
      await client.enqueue('a'.repeat(200), { id: 1 });
      expect((await ctx.plain.keys('*')).sort()).toEqual([`app:${'a'.repeat(200)}`, '{app:}:registry:queues']);
      expect(await ctx.plain.smembers('{app:}:registry:queues')).toEqual(['a'.repeat(200)]);
    } finally {
      await app.close();
    }
  });
});
