import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import {
  BrokerCatalog,
  BrokerClient,
  ChannelMessageContext,
  Ctx,
  InvalidBrokerOptionsError,
  OnChannel,
  Payload,
  QueueDeadLetterService,
  QueueHandler,
  QueueInspector,
  QueueKeys,
  StreamConsumer,
  StreamDeadLetterService,
  StreamInspector,
  type QueueMessageContext,
} from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { report } from '../support/ledger.js';
import { masterPortOf, startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';

// Queue names whose slots (344, 7593, 13129) fall on the three masters of a fresh 3-master cluster.
const QUEUES = ['c-orders', 'c-jobs', 'c-tasks'];
const handled = new Map<string, number[]>();
const streamSeen: string[] = [];
const failing = new Map<string, number>();
const channelSeen: string[] = [];

function record(queue: string, id: number): void {
  handled.set(queue, [...(handled.get(queue) ?? []), id]);
}

@Injectable()
class ClusterHandlers {
  @QueueHandler('c-orders', { concurrency: 4 })
  orders(payload: { id: number }): void { record('c-orders', payload.id); }

  @QueueHandler('c-jobs', { concurrency: 2, prefetch: 8 })
  mails(payload: { id: number }): void { record('c-jobs', payload.id); }

  @QueueHandler('c-tasks', { mode: 'fast', concurrency: 2, blockTimeoutMs: 200 })
  bills(payload: { id: number }): void { record('c-tasks', payload.id); }

  @QueueHandler('c-flaky', { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  flaky(payload: { id: number }, ctx: QueueMessageContext): void {
    failing.set(`q${payload.id}`, ctx.attempt);
    throw new Error(`flaky ${payload.id} fails on attempt ${ctx.attempt}`);
  }

  @OnChannel('c-news')
  news(@Payload('n') n: number, @Ctx() ctx: ChannelMessageContext): void { channelSeen.push(`plain:${ctx.channel}:${n}`); }

  @OnChannel({ pattern: 'c-user.*' })
  users(@Payload('n') n: number, @Ctx() ctx: ChannelMessageContext): void { channelSeen.push(`pattern:${ctx.channel}:${n}`); }

  // Slots 4328 and 11295: two sharded channels on different shards.
  @OnChannel({ channel: 'c-alerts', sharded: true })
  alerts(@Payload('n') n: number, @Ctx() ctx: ChannelMessageContext): void { channelSeen.push(`sharded:${ctx.channel}:${n}:${ctx.sharded}`); }

  @OnChannel({ channel: 'c-news', sharded: true })
  shardedNews(@Payload('n') n: number, @Ctx() ctx: ChannelMessageContext): void { channelSeen.push(`sharded:${ctx.channel}:${n}:${ctx.sharded}`); }

  @StreamConsumer({ stream: 'c-events', group: 'g1', concurrency: 2, reclaimIntervalMs: 50, maxDeliveries: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  events(@Payload('n') n: string): void {
    if (n === 'bad') throw new Error('bad entry');
    streamSeen.push(n);
  }
}

describe('the broker on a real 3-master Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let app: INestApplicationContext;
  let plain: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    plain = new Cluster(cluster.nodes);
    ({ app } = await bootBroker(
      { connection: { cluster: { nodes: cluster.nodes } }, delayedPollMs: 20, heartbeatIntervalMs: 100, consumerTtlMs: 1_000 },
      [ClusterHandlers],
    ));
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await cluster?.stop();
  });

  it('spreads queues over several masters while each queue keeps all its keys in one slot', async () => {
    const masters = new Set(await Promise.all(QUEUES.map((q) => masterPortOf(cluster.nodes, q))));
    expect(masters.size).toBe(3);
    for (const queue of QUEUES) {
      const keys = new QueueKeys(queue, '');
      const slots = await Promise.all(
        [keys.list, keys.consumers, keys.delayed, keys.attempts, keys.deadIndex, keys.processing('x')].map((k) => plain.call('CLUSTER', 'KEYSLOT', k)),
      );
      expect(new Set(slots).size).toBe(1);
    }
  });

  it('consumes reliable, prefetching and fast queues on different masters, each message once', async () => {
    const client = app.get(BrokerClient);
    // About 75,000 characters a batch: the LPUSH goes with its key as a Buffer, routed by the same slot.
    for (const queue of QUEUES) await client.enqueueMany(queue, Array.from({ length: 50 }, (_, id) => ({ id, pad: 'x'.repeat(1_500) })));
    // A plain LPUSH through a cluster client is consumed as well.
    await plain.lpush('c-orders', JSON.stringify({ id: 50 }));
    await waitFor(() => QUEUES.every((q) => (handled.get(q)?.length ?? 0) >= (q === 'c-orders' ? 51 : 50)), { timeoutMs: 20_000, description: 'all messages' });
    for (const queue of QUEUES) {
      const ids = handled.get(queue) ?? [];
      expect(new Set(ids).size).toBe(ids.length);
    }
    const inspector = app.get(QueueInspector);
    await waitFor(async () => (await inspector.stats('c-orders')).processing === 0, { description: 'acks' });
    expect(await inspector.stats('c-orders')).toMatchObject({ waiting: 0, processing: 0, delayed: 0, dead: 0, consumers: 1 });
  });

  it('runs delayed and deduplicated enqueues, retries and dead letters through single-slot scripts', async () => {
    const client = app.get(BrokerClient);
    expect(await client.enqueue('c-jobs', { id: 100 }, { delayMs: 50, dedupKey: 'once' })).toEqual(expect.any(String));
    expect(await client.enqueue('c-jobs', { id: 101 }, { dedupKey: 'once' })).toBeNull();
    await waitFor(() => handled.get('c-jobs')?.includes(100) ?? false, { description: 'the delayed message' });
    await client.enqueue('c-flaky', { id: 1 });
    const dead = app.get(QueueDeadLetterService);
    await waitFor(async () => (await dead.count('c-flaky')) === 1, { description: 'the dead letter' });
    const [letter] = await dead.list('c-flaky');
    expect(letter.reason).toBe('max-attempts');
    expect(await dead.requeueAll('c-flaky')).toBe(1);
    await waitFor(async () => (await dead.count('c-flaky')) === 1 && failing.get('q1') === 2, { description: 'the second death' });
  });

  it('consumes a stream with its consumer group and dead-letters a failing entry to a stream in the same slot', async () => {
    const client = app.get(BrokerClient);
    for (let n = 0; n < 20; n += 1) await client.append('c-events', { n: String(n) });
    await client.append('c-events', { n: 'bad' });
    const dead = app.get(StreamDeadLetterService);
    await waitFor(async () => streamSeen.length === 20 && (await dead.count('c-events', 'g1')) === 1, { timeoutMs: 15_000, description: 'stream entries' });
    expect(new Set(streamSeen).size).toBe(20);
    const stats = await app.get(StreamInspector).stats('c-events');
    expect(stats.groups[0]).toMatchObject({ group: 'g1', pending: 0 });
  });

  it('delivers plain, pattern and sharded channel messages (SSUBSCRIBE on the shard that owns each channel)', async () => {
    expect(await masterPortOf(cluster.nodes, 'c-alerts')).not.toBe(await masterPortOf(cluster.nodes, 'c-news'));
    const client = app.get(BrokerClient);
    await client.publish('c-news', { n: 1 });
    await client.publish('c-user.42', { n: 2 });
    await client.publish('c-alerts', { n: 3 }, { sharded: true });
    await client.publish('c-news', { n: 4 }, { sharded: true });
    await waitFor(() => channelSeen.length >= 4, { description: 'four channel messages' }).catch((e) => { throw new Error(`${String(e)} seen: ${channelSeen.join(' ')}`); });
    expect(channelSeen.sort()).toEqual(['pattern:c-user.42:2', 'plain:c-news:1', 'sharded:c-alerts:3:true', 'sharded:c-news:4:true']);
    // One SSUBSCRIBE connection per shard that owns a subscribed channel.
    const shardedSubscribers = await Promise.all(cluster.nodes.map(async ({ port }) => {
      const list = String(await plain.nodes('all').find((n) => n.options.port === port)!.call('CLIENT', 'LIST'));
      return list.split('\n').filter((line) => / ssub=[1-9]/.test(line)).length;
    }));
    expect(shardedSubscribers.filter((n) => n > 0)).toHaveLength(2);
  });

  it('lists the registered queues and streams and the channels with subscribers on every master (dashboard and CLI catalog)', async () => {
    const overview = await new BrokerCatalog(app.get(BrokerClient).redis, '').overview();
    expect(overview.queues.map((q) => q.queue)).toEqual(expect.arrayContaining(QUEUES));
    expect(overview.streams.map((s) => s.stream)).toContain('c-events');
    expect(overview.channels).toEqual(expect.arrayContaining([
      expect.objectContaining({ channel: 'c-news', sharded: false }),
      { channel: 'c-alerts', sharded: true, subscribers: 1 },
      { channel: 'c-news', sharded: true, subscribers: 1 },
    ]));
  });

  it('re-reads the slot map while idle for its sharded listeners, so a slot move it first missed is caught up', async () => {
    // A slot move unsubscribes the channel on its old owner; ioredis then reads the map once, and a node
    // that has not learnt of the move yet answers with the old map. Only a periodic re-read recovers from that.
    const slotReads = async (): Promise<number> => {
      let total = 0;
      for (const node of plain.nodes('master')) {
        total += Number(/cmdstat_cluster\|slots:calls=(\d+)/.exec(String(await node.call('INFO', 'commandstats')))?.[1] ?? 0);
      }
      return total;
    };
    const before = await slotReads();
    await waitFor(async () => (await slotReads()) > before, { timeoutMs: 15_000, intervalMs: 500, description: 'a periodic CLUSTER SLOTS' });
  }, 30_000);

  it('keeps a sharded listener receiving after its channel\'s slot moves to another master (resharding)', async () => {
    const slot = Number(await plain.call('CLUSTER', 'KEYSLOT', 'c-alerts'));
    const from = await masterPortOf(cluster.nodes, 'c-alerts');
    const to = cluster.nodes.find((n) => n.port !== from)!.port;
    const node = (port: number) => plain.nodes('master').find((n) => n.options.port === port)!;
    const idOf = async (port: number) => String(await node(port).call('CLUSTER', 'MYID'));
    const [fromId, toId] = [await idOf(from), await idOf(to)];
    // The slot holds no key, so moving it is IMPORTING/MIGRATING then NODE on every master.
    await node(to).call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await node(from).call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    for (const { port } of cluster.nodes) await node(port).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    await waitFor(async () => (await masterPortOf(cluster.nodes, 'c-alerts')) === to, { description: 'the slot to move' });
    const client = app.get(BrokerClient);
    const before = channelSeen.length;
    // At-most-once: publish until one arrives on the new owner, then the next ones must all arrive.
    let n = 100;
    await waitFor(async () => {
      await client.publish('c-alerts', { n: n++ }, { sharded: true }).catch(() => 0);
      return channelSeen.length > before;
    }, { timeoutMs: 45_000, intervalMs: 200, description: 'a sharded message after the slot moved' });
    const next = n;
    report('sharded listener after resharding', { slot, from, to, publishesBeforeFirstDelivery: next - 100 });
    for (let i = 0; i < 5; i += 1) await client.publish('c-alerts', { n: next + i }, { sharded: true });
    await waitFor(() => channelSeen.filter((e) => e.startsWith('sharded:c-alerts:') && Number(e.split(':')[2]) >= next).length === 5, {
      description: 'the next five sharded messages',
    });
  }, 120_000);

  it('stops every consumer on close, fast mode included (no CLIENT UNBLOCK on Cluster)', async () => {
    const runner = app.get(ConsumerRunner);
    expect(runner.health().every((h) => h.state === 'running')).toBe(true);
    await app.close();
    expect(runner.health().every((h) => h.state === 'stopped')).toBe(true);
  });

  it('refuses at startup names and prefixes that would split a queue over slots (CROSSSLOT)', async () => {
    const boot = (options: object) => bootBroker({ connection: { cluster: { nodes: cluster.nodes } }, ...options }, []);
    await expect(boot({ keyPrefix: '{app}:' })).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(boot({ keyPrefix: '{app}:' })).rejects.toThrow(/keyPrefix.*braces/);
    // ioredis' keyPrefix would sit outside the hash tags: 'a{' makes "a{q" and "a{{q}:consumers" hash differently.
    await expect(bootBroker({ connection: { cluster: { nodes: cluster.nodes, options: { keyPrefix: 'a{' } } } }, []))
      .rejects.toThrow(/connection.cluster.options.keyPrefix.*set the module option keyPrefix instead/);
    await expect(bootBroker({ connection: { cluster: { nodes: cluster.nodes, options: { redisOptions: { keyPrefix: 'a{' } } } } }, []))
      .rejects.toThrow(/connection.cluster.options.redisOptions.keyPrefix/);
    const client = (await boot({})).app;
    try {
      await expect(client.get(BrokerClient).enqueue('a{b}c', { id: 1 })).rejects.toThrow(/Invalid queue name "a\{b\}c".*braces/);
      await expect(client.get(BrokerClient).append('s{x}', { n: '1' })).rejects.toThrow(/Invalid stream name/);
    } finally {
      await client.close();
    }
  });
});
