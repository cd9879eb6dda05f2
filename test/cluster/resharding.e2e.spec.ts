import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { BrokerClient, Payload, QueueHandler, ReplicationNotConfirmedError, StreamConsumer } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { ledger, report } from '../support/ledger.js';
import { masterPortOf, moveSlot, replicaPortOf, startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';
import { produceUntil } from '../support/resending-producer.js';

const MIN_SENT = 200;
const WINDOW = 4;
const handledQueue: string[] = [];
const handledStream: string[] = [];

@Injectable()
class ReshardHandlers {
  @QueueHandler('rs-queue', { concurrency: WINDOW, blockTimeoutMs: 300 })
  async queue(@Payload('id') id: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    handledQueue.push(String(id));
  }

  @StreamConsumer({ stream: 'rs-stream', group: 'g', concurrency: WINDOW, blockTimeoutMs: 300, claimIdleMs: 2_000, reclaimIntervalMs: 200 })
  async stream(@Payload('n') n: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    handledStream.push(n);
  }
}

/**
 * Sends 0, 1, 2... to the queue and the stream until `done()` and at least
 * MIN_SENT; every other one with `replicas: 1` (so durable writes meet the
 * `ASK`/`MOVED` of the move too). A send that rejects is sent again;
 * `resent` counts them (none expected: a single-key write follows every
 * redirection, and the WAIT timeout is long).
 */
function produce(client: BrokerClient, done: () => boolean): Promise<{ sent: number; resent: number }> {
  return produceUntil(MIN_SENT, done, (n) => {
    const durable = n % 2 === 0 ? { replicas: 1, replicasTimeoutMs: 30_000 } : {};
    return [() => client.enqueue('rs-queue', { id: n }, durable), () => client.append('rs-stream', { n: String(n) }, durable)];
  });
}

describe('a Redis Cluster (3 masters, 1 replica each) resharding a busy queue\'s and stream\'s slot', () => {
  let cluster: RedisClusterHandle;
  let app: INestApplicationContext;
  let plain: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
    plain = new Cluster(cluster.nodes);
    await waitFor(async () => {
      const masters = plain.nodes('master');
      return masters.length === 3 && (await Promise.all(masters.map((m) => replicaPortOf(Number(m.options.port))))).every(Boolean);
    }, {
      timeoutMs: 30_000, intervalMs: 200, description: 'every master to have its replica online',
    });
    ({ app } = await bootBroker(
      { connection: { cluster: { nodes: cluster.nodes } }, heartbeatIntervalMs: 200, consumerTtlMs: 2_000 },
      [ReshardHandlers],
    ));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await cluster?.stop();
  });

  it('runs WAIT on the master of the key\'s slot: resolves with its replica up, rejects with it frozen', async () => {
    const client = app.get(BrokerClient);
    expect(await client.enqueue('rs-wait', { id: 1 }, { replicas: 1 })).toEqual(expect.any(String));
    expect(await client.append('rs-wait-s', { n: '1' }, { replicas: 1 })).toMatch(/^\d+-\d+$/);
    const replica = (await replicaPortOf(await masterPortOf(cluster.nodes, 'rs-wait')))!;
    cluster.pause(replica);
    try {
      await expect(client.enqueue('rs-wait', { id: 2 }, { replicas: 1, replicasTimeoutMs: 300 })).rejects.toThrow(ReplicationNotConfirmedError);
    } finally {
      cluster.resume(replica);
    }
    expect((await plain.lrange('rs-wait', 0, -1)).map((text) => (JSON.parse(text) as { p: unknown }).p)).toEqual([{ id: 2 }, { id: 1 }]);
  });

  it('loses nothing while the queue\'s and then the stream\'s slot move to another master, keys in flight', async () => {
    const client = app.get(BrokerClient);
    const masters = plain.nodes('master').map((node) => ({ port: Number(node.options.port) }));
    let moved = false;
    const producing = produce(client, () => moved);
    await waitFor(() => handledQueue.length >= 20 && handledStream.length >= 20, { timeoutMs: 30_000, description: 'consumption under way' });
    const moves: string[] = [];
    for (const name of ['rs-queue', 'rs-stream']) {
      const from = await masterPortOf(cluster.nodes, name);
      const to = masters.find((m) => m.port !== from)!.port;
      const slot = Number(await plain.call('CLUSTER', 'KEYSLOT', name));
      // One key per MIGRATE, with consumption and production running between them.
      const keys = await moveSlot(masters, slot, from, to, {
        between: () => new Promise((resolve) => setTimeout(resolve, 300)),
      });
      await waitFor(async () => (await masterPortOf(cluster.nodes, name)) === to, { description: `${name}'s slot to move` });
      moves.push(`${name}:${slot}:${from}->${to}:${keys}keys`);
    }
    moved = true;
    const { sent, resent } = await producing;
    await waitFor(() => new Set(handledQueue).size >= sent && new Set(handledStream).size >= sent, {
      timeoutMs: 60_000, description: 'every message and entry to be handled after the moves',
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; queue missing ${ledger(sent, handledQueue).missing.join(',')}; stream missing ${ledger(sent, handledStream).missing.join(',')}`);
    });
    const queue = ledger(sent, handledQueue);
    const stream = ledger(sent, handledStream);
    report('Cluster resharding under load', {
      sent, moves: moves.join(' '), resent, queueMissing: queue.missing.length, queueDuplicates: queue.duplicates,
      streamMissing: stream.missing.length, streamDuplicates: stream.duplicates,
    });
    expect(queue.missing).toEqual([]);
    expect(stream.missing).toEqual([]);
    expect(resent).toBe(0);
    expect(queue.unexpected).toEqual([]);
    expect(stream.unexpected).toEqual([]);
    expect(app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  }, 240_000);
});
