import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ChannelSubscriptionService, OnChannel, type ChannelListenerStats } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { deferred } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

const BURST = 100_000;
// Published in pipelines of this many: as fast as one client can publish.
const SLICE = 10_000;

let received = 0;
let receivedAsync = 0;

@Injectable()
class InstantListener {
  @OnChannel('burst')
  handle(): void {
    received += 1;
  }

  // A buffer that holds the whole burst: the test is about losing nothing on the way to an async
  // handler, not about keeping up (CI, loaded, once fell 1,942 behind a 10,000-message buffer).
  @OnChannel('burst-async', { bufferSize: BURST })
  async handleAsync(): Promise<void> {
    receivedAsync += 1;
  }
}

async function publishBurst(admin: Redis, channel: string): Promise<void> {
  for (let start = 0; start < BURST; start += SLICE) {
    const pipeline = admin.pipeline();
    for (let seq = start; seq < start + SLICE; seq += 1) pipeline.publish(channel, String(seq));
    await pipeline.exec();
  }
}

describe('channel listener buffers', () => {
  const broker = useBrokerApp({}, [InstantListener]);

  const stats = (handler: string): ChannelListenerStats =>
    broker.app.get(ChannelSubscriptionService).stats().find((s) => s.handler === handler)!;

  it('delivers every message of a 100,000-message burst to a handler that keeps up, dropping none', async () => {
    await publishBurst(broker.plain, 'burst');
    const handler = 'InstantListener@handle';
    await waitFor(() => stats(handler).handled + stats(handler).dropped === BURST, {
      timeoutMs: 60_000,
      description: 'the whole burst to reach the listener',
    });
    expect(stats(handler).dropped).toBe(0);
    expect(received).toBe(BURST);
    expect(stats(handler).highWater).toBe(0);
  });

  it('delivers every message of a 100,000-message burst to an async handler whose buffer holds it, dropping none', async () => {
    await publishBurst(broker.plain, 'burst-async');
    const handler = 'InstantListener@handleAsync';
    await waitFor(() => stats(handler).handled + stats(handler).dropped === BURST, {
      timeoutMs: 60_000,
      description: 'the whole burst to reach the async listener',
    });
    expect(stats(handler).dropped).toBe(0);
    expect(receivedAsync).toBe(BURST);
  });

  it('bounds the buffer in bytes as well as in messages, dropping by the overflow policy', async () => {
    const gate = deferred();
    const kept: number[] = [];
    const quarter = 256 * 1024;
    const unsubscribe = await broker.app.get(ChannelSubscriptionService).subscribe(
      'large',
      async (payload) => {
        await gate.promise;
        kept.push(Number((payload as string).slice(0, 2)));
      },
      { parse: 'raw', bufferSize: 1_000, maxBufferBytes: 4 * quarter, label: 'stuck' },
    );
    // Ten messages of 256 KiB: one runs (stuck), four fill the 1 MiB, five are dropped.
    for (let seq = 10; seq < 20; seq += 1) await broker.plain.publish('large', String(seq).padEnd(quarter, 'x'));
    await waitFor(() => {
      const s = stats('stuck');
      return s.running + s.buffered + s.dropped === 10;
    }, { timeoutMs: 30_000, description: 'all ten messages to reach the listener' });
    expect(stats('stuck')).toMatchObject({ running: 1, buffered: 4, bufferedBytes: 4 * quarter, dropped: 5, maxBufferBytes: 4 * quarter });

    // A message larger than the whole byte bound is dropped while the handler is busy.
    await broker.plain.publish('large', '20'.padEnd(5 * quarter, 'x'));
    await waitFor(() => stats('stuck').dropped === 6, { description: 'the oversized message to be dropped' });
    expect(stats('stuck').bufferedBytes).toBe(4 * quarter);

    gate.resolve();
    await waitFor(() => kept.length === 5, { description: 'the kept messages to run' });
    // drop-oldest: the first one (running) and the newest four.
    expect(kept).toEqual([10, 16, 17, 18, 19]);
    expect(stats('stuck').bufferedBytes).toBe(0);
    await unsubscribe();
  });

  it('rejects a maxBufferBytes that is not a positive whole number, naming it', async () => {
    const subscriptions = broker.app.get(ChannelSubscriptionService);
    await expect(subscriptions.subscribe('ok', () => undefined, { maxBufferBytes: 0 })).rejects.toThrow(/subscribe\.maxBufferBytes/);
    await expect(subscriptions.subscribe('ok', () => undefined, { maxBufferBytes: 1.5 })).rejects.toThrow(/subscribe\.maxBufferBytes/);
  });
});
