import { connect, type Socket } from 'node:net';
import { Injectable } from '@nestjs/common';
import { BrokerEvents, ChannelSubscriptionService, OnChannel, type ChannelListenerStats } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferred } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

const BURST = 20_000;
const OLDEST_BUFFER = 100;
const NEWEST_BUFFER = 50;
// 1 KiB messages: the burst (20 MB) is far more than the pub/sub output
// buffer limit set below plus what the kernel's socket buffers hold.
const FILLER = 'x'.repeat(1_000);
// Published in slices, each awaited, as a busy producer would: a reading
// subscriber then never lags a whole output buffer limit behind.
const SLICE = 500;

const gate = deferred();
const keptOldest: number[] = [];
const keptNewest: number[] = [];

function sequence(payload: unknown): number {
  return (payload as { seq: number }).seq;
}

@Injectable()
class SlowListeners {
  @OnChannel('flood', { bufferSize: OLDEST_BUFFER })
  async dropsOldest(payload: unknown): Promise<void> {
    await gate.promise;
    keptOldest.push(sequence(payload));
  }

  @OnChannel('flood', { bufferSize: NEWEST_BUFFER, overflow: 'drop-newest' })
  async dropsNewest(payload: unknown): Promise<void> {
    await gate.promise;
    keptNewest.push(sequence(payload));
  }
}

/** A subscriber that never reads its socket: what Redis disconnects at the output buffer limit. */
function stalledSubscriber(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('CLIENT SETNAME stalled-control\r\nSUBSCRIBE flood\r\n');
      socket.once('data', () => {
        socket.pause();
        resolve(socket);
      });
    });
    socket.on('error', reject);
  });
}

function clientLine(list: string, name: string): string | undefined {
  return list.split('\n').find((line) => line.includes(`name=${name} `));
}

describe('a slow channel handler under a burst', () => {
  let stalled: Socket;
  let droppedEvents = 0;

  const broker = useBrokerApp({}, [SlowListeners], {
    // Disconnect a pub/sub client as soon as 4 MB wait for it in Redis.
    beforeBoot: ({ plain }) => plain.config('SET', 'client-output-buffer-limit', 'pubsub 4mb 0 0'),
  });

  beforeAll(async () => {
    broker.app.get(BrokerEvents).on('dropped', (event) => {
      if (event.kind === 'channel') droppedEvents += event.count;
    });
    stalled = await stalledSubscriber(broker.redis.port);
  });

  afterAll(() => {
    gate.resolve();
    stalled?.destroy();
  });

  const stats = (handler: string): ChannelListenerStats =>
    broker.app.get(ChannelSubscriptionService).stats().find((s) => s.handler === handler)!;

  it('keeps its subscriber connected and its buffers within bounds, dropping by the overflow policy', async () => {
    const subscriberBefore = clientLine((await broker.plain.client('LIST')) as string, 'nrb:subscriber:channels');
    expect(subscriberBefore).toBeDefined();
    for (let start = 0; start < BURST; start += SLICE) {
      const pipeline = broker.plain.pipeline();
      for (let seq = start; seq < start + SLICE; seq += 1) pipeline.publish('flood', JSON.stringify({ seq, filler: FILLER }));
      await pipeline.exec();
    }

    // Every message reached the process: it is buffered, running or counted as dropped.
    const accounted = (s: ChannelListenerStats): number => s.buffered + s.running + s.dropped + s.handled;
    await waitFor(
      () => accounted(stats('SlowListeners@dropsOldest')) === BURST && accounted(stats('SlowListeners@dropsNewest')) === BURST,
      { timeoutMs: 30_000, description: 'the whole burst to reach both listeners' },
    );
    // The control subscriber that does not read was disconnected by Redis; ours was not.
    await waitFor(async () => clientLine((await broker.plain.client('LIST')) as string, 'stalled-control') === undefined, {
      timeoutMs: 30_000,
      description: 'Redis to disconnect the stalled control subscriber',
    });
    const subscriberAfter = clientLine((await broker.plain.client('LIST')) as string, 'nrb:subscriber:channels');
    expect(subscriberAfter?.match(/ id=\d+|^id=\d+/)?.[0]).toBe(subscriberBefore?.match(/ id=\d+|^id=\d+/)?.[0]);

    const oldest = stats('SlowListeners@dropsOldest');
    const newest = stats('SlowListeners@dropsNewest');
    expect(oldest.highWater).toBeLessThanOrEqual(OLDEST_BUFFER);
    expect(newest.highWater).toBeLessThanOrEqual(NEWEST_BUFFER);
    expect(oldest.buffered).toBe(OLDEST_BUFFER);
    expect(newest.buffered).toBe(NEWEST_BUFFER);
    await waitFor(() => droppedEvents === oldest.dropped + newest.dropped, { description: 'dropped events to add up to the counters' });
    expect(broker.logger.text()).toMatch(/SlowListeners@dropsOldest is slower than channel "flood": dropped \d+ message\(s\)/);
    expect(broker.logger.text()).toMatch(/overflow: drop-newest/);

    gate.resolve();
    await waitFor(
      () => stats('SlowListeners@dropsOldest').buffered + stats('SlowListeners@dropsNewest').buffered === 0 && stats('SlowListeners@dropsOldest').running === 0,
      { description: 'the buffers to drain once the handlers are fast again' },
    );
    // drop-oldest kept the newest messages, drop-newest the first ones.
    expect(keptOldest.slice(-OLDEST_BUFFER)).toEqual(Array.from({ length: OLDEST_BUFFER }, (_, i) => BURST - OLDEST_BUFFER + i));
    expect(keptNewest[0]).toBe(0);
    expect(keptNewest).not.toContain(BURST - 1);
    // Every message not counted as dropped reached the handler, once.
    expect(keptOldest.length).toBe(BURST - stats('SlowListeners@dropsOldest').dropped);
    expect(keptNewest.length).toBe(BURST - stats('SlowListeners@dropsNewest').dropped);
  });
});
