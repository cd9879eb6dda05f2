import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { QueueHandler, RedisBrokerModule } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

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
  const ctx = useRedis({}, { flushBeforeEach: false });

  it('takes its options from an injected provider, and the key prefix applies to the list name', async () => {
    @Module({
      imports: [
        RedisBrokerModule.forRootAsync({
          imports: [ConfigLikeModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({ connection: { url: ctx.redis.url }, keyPrefix: config.prefix }),
        }),
      ],
      providers: [PrefixedHandler],
    })
    class AsyncAppModule {}
    const app = await NestFactory.createApplicationContext(AsyncAppModule, { logger: new CapturingLogger() });
    const plain = new Redis(ctx.redis.url);
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
