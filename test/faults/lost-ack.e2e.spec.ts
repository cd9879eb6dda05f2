import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, ConsumerRunner, Payload, QueueHandler, StreamConsumer } from 'nest-redis-broker';
import { startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred, type CapturingLogger } from '../support/broker-app.js';

// The handler of message/entry 0 waits for the test to let it finish, so the
// test can take Redis down while it runs: its ack then fails for sure.
let gate = deferred();
let started = deferred();
const queueRuns: number[] = [];
const streamRuns: string[] = [];

@Injectable()
class GatedHandlers {
  @QueueHandler('lost-ack-q', { concurrency: 2 })
  async queue(@Payload('id') id: number): Promise<void> {
    queueRuns.push(id);
    if (id === 0) {
      started.resolve();
      await gate.promise;
    }
  }

  @StreamConsumer({ stream: 'lost-ack-s', group: 'g', concurrency: 2, claimIdleMs: 300, reclaimIntervalMs: 100, blockTimeoutMs: 200 })
  async stream(@Payload('n') n: string): Promise<void> {
    streamRuns.push(n);
    if (n === '0') {
      started.resolve();
      await gate.promise;
    }
  }
}

describe('an ack that fails because Redis went away while the handler ran', () => {
  let redis: RedisServerHandle;
  let app: INestApplicationContext;
  let logger: CapturingLogger;
  let plain: Redis;

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    // One retry per command: with Redis down, the ack is rejected instead of waiting in ioredis' offline queue.
    ({ app, logger } = await bootBroker(
      { connection: { url: redis.url, redis: { maxRetriesPerRequest: 1 } }, heartbeatIntervalMs: 200, consumerTtlMs: 1_000 },
      [GatedHandlers],
    ));
    plain = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    plain.on('error', () => undefined);
  });

  afterEach(() => {
    gate = deferred();
    started = deferred();
  });

  afterAll(async () => {
    plain?.disconnect();
    await app?.close();
    await redis?.stop();
  });

  it('queue: acks the handled message once Redis is back, instead of running it again', async () => {
    await plain.lpush('lost-ack-q', JSON.stringify({ id: 0 }));
    await started.promise;
    await redis.kill();
    gate.resolve();
    await waitFor(() => /of queue "lost-ack-q"(: | was handled but its ack failed)/.test(logger.text()), { timeoutMs: 15_000, description: 'the ack to fail' });
    await redis.start();
    await waitFor(async () => (await plain.lpush('lost-ack-q', JSON.stringify({ id: 1 })).catch(() => 0)) > 0, {
      timeoutMs: 15_000, description: 'Redis to accept the next message',
    });
    await waitFor(() => queueRuns.includes(1), { timeoutMs: 15_000, description: 'the next message to run' });
    // Recovery ran before message 1 was fetched; the reaper had its chance too: nothing comes back.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(queueRuns.filter((id) => id === 0)).toHaveLength(1);
    expect(logger.text()).toMatch(/Re-sent 1 ack\(s\) of queue lost-ack-q/);
    const keys = await plain.keys('{lost-ack-q}:processing:*');
    const held = await Promise.all(keys.map((k) => plain.llen(k)));
    expect(held.reduce((a, b) => a + b, 0)).toBe(0);
    expect(await plain.llen('lost-ack-q')).toBe(0);
    expect(app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  });

  it('stream: re-sends the XACK until it lands, so the entry is not reclaimed and run again', async () => {
    const client = app.get(BrokerClient);
    await client.append('lost-ack-s', { n: '0' });
    await started.promise;
    await redis.kill();
    gate.resolve();
    await waitFor(() => plain.status !== 'ready', { description: 'connections to drop' });
    // Down for longer than claimIdleMs: without the re-sent XACK the entry would be taken over and run again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await redis.start();
    await waitFor(async () => (await plain.xpending('lost-ack-s', 'g').catch(() => [1]) as unknown[])[0] === 0, {
      timeoutMs: 15_000, description: 'the entry to be acknowledged',
    });
    await client.append('lost-ack-s', { n: '1' });
    await waitFor(() => streamRuns.includes('1'), { timeoutMs: 15_000, description: 'the next entry to run' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(streamRuns.filter((n) => n === '0')).toHaveLength(1);
    expect(app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  });
});
