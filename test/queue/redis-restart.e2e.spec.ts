import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ConsumerRunner, QueueHandler } from 'nest-redis-broker';
import { startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';

const handled = new Set<number>();

@Injectable()
class SteadyHandler {
  @QueueHandler('steady', { concurrency: 2 })
  async handle(payload: { id: number }): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    handled.add(payload.id);
  }
}

describe('a Redis restart during consumption', () => {
  let redis: RedisServerHandle;

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('resumes on its own and loses nothing in reliable mode', async () => {
    const { app, logger } = await bootBroker({ connection: { url: redis.url } }, [SteadyHandler]);
    const plain = new Redis(redis.url);
    plain.on('error', () => undefined);
    try {
      await plain.lpush('steady', ...Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i })));
      await waitFor(() => handled.size >= 20, { description: 'consumption to start' });
      await redis.kill();
      await waitFor(() => plain.status !== 'ready', { description: 'connections to drop' });
      await redis.start();
      await plain.lpush('steady', ...Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: 100 + i })));
      await waitFor(() => handled.size === 200, { timeoutMs: 30_000, description: 'all 200 messages' });
      await waitForQueuesIdle(redis.url, ['steady'], { timeoutMs: 30_000 });
      expect(app.get(ConsumerRunner).health()[0]).toMatchObject({ state: 'running', failing: false });
      expect(logger.text()).toContain('is ready again');
    } finally {
      plain.disconnect();
      await app.close();
    }
  });
});
