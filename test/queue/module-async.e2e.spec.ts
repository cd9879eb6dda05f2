import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { QueueHandler, RedisBrokerModule } from 'nest-redis-broker';
import { startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/broker-app.js';

@Injectable()
class AppConfig {
  redisUrl = '';
  prefix = 'tenant-a:';
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigLikeModule {}

const handled: unknown[] = [];

@Injectable()
class PrefixedHandler {
  @QueueHandler('jobs')
  handle(payload: unknown): void {
    handled.push(payload);
  }
}

describe('RedisBrokerModule.forRootAsync', () => {
  let redis: RedisServerHandle;

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('takes its options from an injected provider, and the key prefix applies to the list name', async () => {
    @Module({
      imports: [
        RedisBrokerModule.forRootAsync({
          imports: [ConfigLikeModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({ connection: { url: redis.url }, keyPrefix: config.prefix }),
        }),
      ],
      providers: [PrefixedHandler],
    })
    class AsyncAppModule {}
    const app = await NestFactory.createApplicationContext(AsyncAppModule, { logger: new CapturingLogger() });
    const plain = new Redis(redis.url);
    try {
      await plain.lpush('tenant-a:jobs', '{"n":1}');
      await plain.lpush('jobs', '{"n":2}');
      await waitFor(() => handled.length === 1, { description: 'the prefixed message' });
      expect(handled).toEqual([{ n: 1 }]);
      expect(await plain.llen('jobs')).toBe(1);
    } finally {
      plain.disconnect();
      await app.close();
    }
  });
});
