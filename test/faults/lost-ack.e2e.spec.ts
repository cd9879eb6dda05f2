import { Injectable } from '@nestjs/common';
import { BrokerClient, Payload, QueueHandler, QueueKeys, StreamConsumer } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor } from 'nest-redis-broker/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

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
  // One retry per command: with Redis down, the ack is rejected instead of waiting in ioredis' offline queue.
  const broker = useBrokerApp(
    { connection: { redis: { maxRetriesPerRequest: 1 } }, heartbeatIntervalMs: 200, consumerTtlMs: 1_000 },
    [GatedHandlers],
    { server: { appendOnly: true }, client: { maxRetriesPerRequest: 1 } },
  );

  afterEach(() => {
    gate = deferred();
    started = deferred();
  });

  /** Copies in the processing lists of every consumer of `queue`. */
  async function heldByConsumers(queue: string): Promise<number> {
    const lists = await broker.plain.keys(`{${queue}}:processing:*`);
    const lengths = await Promise.all(lists.map((k) => broker.plain.llen(k)));
    return lengths.reduce((a, b) => a + b, 0);
  }

  /**
   * Waits for `passes` more heartbeat-and-reap passes of the consumers of `queue`: each heartbeat raises
   * the consumer's deadline in the consumers set, and a pass reaps right after its heartbeat, so the
   * pass before the last raise seen has finished.
   */
  async function reaperPasses(queue: string, passes: number): Promise<void> {
    const deadlines = async (): Promise<string> => (await broker.plain.zrange(new QueueKeys(queue, '').consumers, '0', '-1', 'WITHSCORES')).join();
    let last = await deadlines();
    for (let seen = 0; seen < passes;) {
      await waitFor(async () => (await deadlines()) !== last, { description: `heartbeat ${seen + 1} of ${passes} of ${queue}` });
      last = await deadlines();
      seen += 1;
    }
  }

  /** How many XPENDING calls Redis has run since it started (a reclaimer pass makes 4: own retries and takeovers, per key). */
  async function xpendingCalls(): Promise<number> {
    const stats = await broker.plain.info('commandstats');
    return Number(/cmdstat_xpending:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  it('queue: acks the handled message once Redis is back, instead of running it again', async () => {
    await broker.plain.lpush('lost-ack-q', JSON.stringify({ id: 0 }));
    await started.promise;
    await broker.redis.kill();
    gate.resolve();
    await waitFor(() => /of queue "lost-ack-q"(: | was handled but its ack failed)/.test(broker.logger.text()), { timeoutMs: 15_000, description: 'the ack to fail' });
    await broker.redis.start();
    await waitFor(async () => (await broker.plain.lpush('lost-ack-q', JSON.stringify({ id: 1 })).catch(() => 0)) > 0, {
      timeoutMs: 15_000, description: 'Redis to accept the next message',
    });
    await waitFor(() => queueRuns.includes(1), { timeoutMs: 15_000, description: 'the next message to run' });
    // Recovery ran before message 1 was fetched; the reaper gets its chance too: nothing comes back.
    await waitFor(async () => (await broker.plain.llen('lost-ack-q')) === 0 && (await heldByConsumers('lost-ack-q')) === 0, {
      description: 'message 1 acked',
    });
    await reaperPasses('lost-ack-q', 2);
    expect(queueRuns.filter((id) => id === 0)).toHaveLength(1);
    expect(broker.logger.text()).toMatch(/Re-sent 1 ack\(s\) of queue lost-ack-q/);
    expect(await heldByConsumers('lost-ack-q')).toBe(0);
    expect(await broker.plain.llen('lost-ack-q')).toBe(0);
    expect(broker.app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  });

  it('stream: re-sends the XACK until it lands, so the entry is not reclaimed and run again', async () => {
    const client = broker.app.get(BrokerClient);
    await client.append('lost-ack-s', { n: '0' });
    await started.promise;
    await broker.redis.kill();
    gate.resolve();
    await waitFor(() => broker.plain.status !== 'ready', { description: 'connections to drop' });
    // Down for longer than claimIdleMs: without the re-sent XACK the entry would be taken over and run again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await broker.redis.start();
    await waitFor(async () => (await broker.plain.xpending('lost-ack-s', 'g').catch(() => [1]) as unknown[])[0] === 0, {
      timeoutMs: 15_000, description: 'the entry to be acknowledged',
    });
    await client.append('lost-ack-s', { n: '1' });
    await waitFor(() => streamRuns.includes('1'), { timeoutMs: 15_000, description: 'the next entry to run' });
    // The reclaimer (every 100 ms, 4 XPENDING a pass) runs twice more, so one pass surely started after the ack.
    const calls = await xpendingCalls();
    await waitFor(async () => (await xpendingCalls()) >= calls + 8, { description: 'two more reclaimer passes' });
    expect(streamRuns.filter((n) => n === '0')).toHaveLength(1);
    expect(broker.app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  });
});
