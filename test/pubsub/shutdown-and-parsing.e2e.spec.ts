import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ChannelSubscriptionService, OnChannel } from 'nest-redis-broker';
import { startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';

let gate = deferred();
const handled: unknown[] = [];
const strict: unknown[] = [];
const raw: unknown[] = [];

@Injectable()
class GatedListener {
  @OnChannel('work')
  async handle(payload: unknown): Promise<void> {
    await gate.promise;
    handled.push(payload);
  }
}

@Injectable()
class ParsingListeners {
  @OnChannel('events', { parse: 'json' })
  strictJson(payload: unknown): void {
    strict.push(payload);
  }

  @OnChannel('events', { parse: 'raw' })
  rawText(payload: unknown): void {
    raw.push(payload);
  }
}

describe('channel listeners at shutdown and with parse modes', () => {
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

  it('runs the messages it already received when the app shuts down, and unsubscribes', async () => {
    gate = deferred();
    handled.length = 0;
    const { app } = await bootBroker({ connection: { url: redis.url } }, [GatedListener]);
    for (let i = 0; i < 5; i += 1) await plain.publish('work', String(i));
    await waitFor(() => app.get(ChannelSubscriptionService).stats()[0].buffered === 4, { description: 'four messages to wait behind the first' });
    const closing = app.close();
    gate.resolve();
    await closing;
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    expect(await plain.pubsub('NUMSUB', 'work')).toEqual(['work', 0]);
  });

  it('discards what is still buffered at the shutdown deadline and says so', async () => {
    gate = deferred();
    handled.length = 0;
    const { app, logger } = await bootBroker({ connection: { url: redis.url }, shutdownTimeoutMs: 100 }, [GatedListener]);
    for (let i = 0; i < 5; i += 1) await plain.publish('work', String(i));
    await waitFor(() => app.get(ChannelSubscriptionService).stats()[0].buffered === 4, { description: 'four messages to wait behind the first' });
    await app.close();
    expect(logger.text()).toMatch(/Shutdown deadline passed: 4 buffered message\(s\) of channel "work" for GatedListener@handle were not run/);
    gate.resolve();
  });

  it("skips and logs text that is not JSON with parse: 'json', and hands the string as it is with parse: 'raw'", async () => {
    const { app, logger } = await bootBroker({ connection: { url: redis.url } }, [ParsingListeners]);
    try {
      await plain.publish('events', 'not json');
      await plain.publish('events', '{"ok":true}');
      await waitFor(() => strict.length === 1 && raw.length === 2, { description: 'both listeners to see the messages' });
      expect(strict).toEqual([{ ok: true }]);
      expect(raw).toEqual(['not json', '{"ok":true}']);
      expect(logger.text()).toMatch(/ParsingListeners@strictJson skipped a message of channel "events" that is not JSON/);
    } finally {
      await app.close();
    }
  });
});
