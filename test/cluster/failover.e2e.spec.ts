import { Injectable, type INestApplicationContext } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { BrokerClient, OnChannel, Payload, QueueHandler, StreamConsumer } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { ledger, report } from '../support/ledger.js';
import { clusterOk, masterPortOf, startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';

const BEFORE = 150;
const AFTER = 100;
const WINDOW = 4;
const handledQueue: string[] = [];
const handledStream: string[] = [];
const news: number[] = [];

@Injectable()
class FailoverHandlers {
  @QueueHandler('fo-queue', { concurrency: WINDOW, blockTimeoutMs: 500 })
  async queue(@Payload('id') id: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    handledQueue.push(String(id));
  }

  // Slot 13763: owned by the same master as fo-queue and fo-stream.
  @OnChannel({ channel: 'fo-news', sharded: true })
  news(@Payload('n') n: number): void {
    news.push(n);
  }

  @StreamConsumer({ stream: 'fo-stream', group: 'g', concurrency: WINDOW, blockTimeoutMs: 500, claimIdleMs: 1_000, reclaimIntervalMs: 100 })
  async stream(@Payload('n') n: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    handledStream.push(n);
  }
}

describe('a master failover in a Redis Cluster with one replica per master', () => {
  let cluster: RedisClusterHandle;
  let app: INestApplicationContext;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
    ({ app } = await bootBroker(
      { connection: { cluster: { nodes: cluster.nodes } }, heartbeatIntervalMs: 200, consumerTtlMs: 1_500 },
      [FailoverHandlers],
    ));
  });

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  it('resumes consumption after the replica takes over, losing nothing the producer had confirmed replicated with WAIT', async () => {
    const master = await masterPortOf(cluster.nodes, 'fo-queue');
    expect(await masterPortOf(cluster.nodes, 'fo-stream')).toBe(master);
    const client = app.get(BrokerClient);
    for (let n = 0; n < BEFORE; n += 1) {
      await client.enqueue('fo-queue', { id: n });
      await client.append('fo-stream', { n: String(n) });
    }
    // The documented recipe: WAIT on the connection that wrote, i.e. the cluster client's link to that master.
    const link = (client.redis as Cluster).nodes('master').find((node: Redis) => node.options.port === master)!;
    expect(Number(await link.call('WAIT', 1, 5_000))).toBe(1);
    await waitFor(() => handledQueue.length >= 20 && handledStream.length >= 20, { description: 'consumption under way' });
    const handledAtKill = handledQueue.length + handledStream.length;
    await cluster.kill(master);
    const survivors = cluster.processes.filter((p) => p.port !== master);
    await waitFor(async () => (await Promise.all(survivors.map((p) => clusterOk(p.port)))).every(Boolean)
      && (await masterPortOf(survivors, 'fo-queue')) !== master, { timeoutMs: 30_000, intervalMs: 200, description: 'the replica to take over' });
    for (let n = BEFORE; n < BEFORE + AFTER; n += 1) {
      await client.enqueue('fo-queue', { id: n });
      await client.append('fo-stream', { n: String(n) });
    }
    await waitFor(() => new Set(handledQueue).size >= BEFORE + AFTER && new Set(handledStream).size >= BEFORE + AFTER, {
      timeoutMs: 30_000, description: 'every message and entry to be handled after the failover',
    }).catch((error: unknown) => {
      const q = ledger(BEFORE + AFTER, handledQueue);
      const s = ledger(BEFORE + AFTER, handledStream);
      throw new Error(`${String(error)}; queue missing ${q.missing.join(',')}; stream missing ${s.missing.join(',')}`);
    });
    const queue = ledger(BEFORE + AFTER, handledQueue);
    const stream = ledger(BEFORE + AFTER, handledStream);
    report('Cluster master failover', {
      sent: BEFORE + AFTER, handledAtKill, queueMissing: queue.missing.length, queueDuplicates: queue.duplicates,
      streamMissing: stream.missing.length, streamDuplicates: stream.duplicates,
    });
    expect(queue.missing).toEqual([]);
    expect(stream.missing).toEqual([]);
    // Repeats come only from what the dead master ran but had not yet sent to its replica: at most
    // the acks of the WINDOW messages the consumer held, and one fetch of the next WINDOW (seen in CI
    // on a loaded machine: 4 acked + 4 fetched came back). A failed ack is re-sent, never a repeat.
    expect(queue.duplicates).toBeLessThanOrEqual(2 * WINDOW);
    expect(stream.duplicates).toBeLessThanOrEqual(2 * WINDOW);
    expect(app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  });

  it('keeps a sharded channel listener receiving after the failover of its slot (messages published meanwhile may be lost)', async () => {
    const client = app.get(BrokerClient);
    const live = cluster.processes.filter((p) => p.child !== undefined);
    expect(await masterPortOf(live, 'fo-news')).toBe(await masterPortOf(live, 'fo-queue'));
    // Pub/sub is at-most-once: publish until one arrives, then check that the next ones arrive in order.
    let n = 0;
    await waitFor(async () => {
      await client.publish('fo-news', { n: n++ }, { sharded: true }).catch(() => 0);
      return news.length > 0;
    }, { timeoutMs: 30_000, intervalMs: 200, description: 'a sharded message after the failover' });
    const first = n;
    for (let i = 0; i < 10; i += 1) await client.publish('fo-news', { n: first + i }, { sharded: true });
    await waitFor(() => news.filter((x) => x >= first).length === 10, { description: 'the next ten sharded messages' });
    report('sharded listener after failover', { publishedBeforeFirstDelivery: first, nextTenDelivered: 10 });
    expect(news.filter((x) => x >= first)).toEqual(Array.from({ length: 10 }, (_, i) => first + i));
  });
});
