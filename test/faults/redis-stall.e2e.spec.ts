import { Injectable } from '@nestjs/common';
import { BrokerClient, OnChannel, Payload, QueueHandler, StreamConsumer } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { ledger, report } from '../support/ledger.js';

const SENT = 200;
const BLOCK_TIMEOUT_MS = 200;
const STALL_MS = 1_500;
const handledQueue: string[] = [];
const handledStream: string[] = [];
const heard: number[] = [];

@Injectable()
class StallHandlers {
  @QueueHandler('stall-q', { concurrency: 4, blockTimeoutMs: BLOCK_TIMEOUT_MS })
  queue(@Payload('id') id: number): void {
    handledQueue.push(String(id));
  }

  @QueueHandler('stall-fast', { mode: 'fast', blockTimeoutMs: BLOCK_TIMEOUT_MS })
  fast(@Payload('id') id: number): void {
    handledQueue.push(`fast-${id}`);
  }

  @OnChannel({ channel: 'stall-c', sharded: true })
  channel(@Payload('n') n: number): void {
    heard.push(n);
  }

  @StreamConsumer({ stream: 'stall-s', group: 'g', concurrency: 4, blockTimeoutMs: BLOCK_TIMEOUT_MS, claimIdleMs: 5_000, reclaimIntervalMs: 100 })
  stream(@Payload('n') n: string): void {
    handledStream.push(n);
  }
}

describe('Redis frozen (SIGSTOP) for longer than the blocking timeout, then resumed (SIGCONT)', () => {
  const broker = useBrokerApp({}, [StallHandlers]);

  afterAll(() => {
    broker.redis?.resume();
  });

  it('every consumer loop recovers and handles what was sent before, during and after the stall', async () => {
    const client = broker.app.get(BrokerClient);
    const sendAll = (from: number, to: number): Promise<unknown> => Promise.all(
      Array.from({ length: to - from }, (_, i) => from + i).flatMap((n) => [
        client.enqueue('stall-q', { id: n }), client.append('stall-s', { n: String(n) }),
      ]),
    );
    await sendAll(0, SENT / 2);
    await waitFor(() => handledQueue.length > 0 && handledStream.length > 0, { description: 'consumption to start' });
    broker.redis.pause();
    // Sent while Redis is frozen: these wait in the sockets and ioredis' queues.
    const duringStall = sendAll(SENT / 2, SENT);
    const fastDuringStall = client.enqueue('stall-fast', { id: 1 });
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    broker.redis.resume();
    await duringStall;
    await fastDuringStall;
    await waitForQueuesIdle(broker.redis.url, ['stall-q', 'stall-fast'], { timeoutMs: 20_000 });
    await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'stall-s', group: 'g' }], { timeoutMs: 20_000 });
    await waitFor(() => handledQueue.includes('fast-1'), { description: 'the fast-mode message' });
    const queue = ledger(SENT, handledQueue.filter((n) => !n.startsWith('fast-')));
    const stream = ledger(SENT, handledStream);
    report('Redis SIGSTOP 1500 ms (block timeout 200 ms)', {
      sent: SENT, queueMissing: queue.missing.length, queueDuplicates: queue.duplicates,
      streamMissing: stream.missing.length, streamDuplicates: stream.duplicates,
    });
    expect(queue.missing).toEqual([]);
    expect(stream.missing).toEqual([]);
    expect(queue.duplicates).toBe(0);
    expect(stream.duplicates).toBe(0);
    // The loops fetch again: a message sent now is handled too.
    await client.enqueue('stall-q', { id: SENT });
    await waitFor(() => handledQueue.includes(String(SENT)), { description: 'a message sent after recovery' });
    expect(broker.app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
    // The sharded subscriber survived the stall too: a message published now is heard.
    await client.publish('stall-c', { n: 1 }, { sharded: true });
    await waitFor(() => heard.includes(1), { description: 'a channel message after the stall' });
  });
});
