import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { Ctx, QueueKeys, ScheduleKeys, Scheduled, SchedulerService, StreamKeys, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { report } from '../support/ledger.js';
import { masterPortOf, startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';

const EVERY = 200;
const TICKS = 15;
const runs: number[] = [];

@Injectable()
class ClusterTick {
  @Scheduled('c-every200', { every: EVERY })
  run(@Ctx() ctx: QueueMessageContext): void {
    runs.push(Number(ctx.headers['nrb-tick']));
  }
}

describe('schedules on a real 3-master Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  const apps: INestApplicationContext[] = [];
  let plain: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    plain = new Cluster(cluster.nodes);
    // Three replicas of one app, each polling and consuming.
    for (let i = 0; i < 3; i += 1) {
      const { app } = await bootBroker({ connection: { cluster: { nodes: cluster.nodes } }, heartbeatIntervalMs: 100, consumerTtlMs: 1_000 }, [ClusterTick]);
      apps.push(app);
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    plain?.disconnect();
    await cluster?.stop();
  });

  it('keeps every schedule key in one slot, apart from the targets it writes to', async () => {
    const keys = new ScheduleKeys('');
    const slots = await Promise.all([keys.index, keys.definitions, keys.runs, keys.lastRuns, keys.outbox].map((k) => plain.call('CLUSTER', 'KEYSLOT', k)));
    expect(new Set(slots).size).toBe(1);
    const target = new QueueKeys('nrb:scheduled:c-every200', '');
    expect(await plain.call('CLUSTER', 'KEYSLOT', target.scheduleTicks('c-every200'))).toBe(await plain.call('CLUSTER', 'KEYSLOT', target.list));
  });

  it('runs each tick of an every-200 schedule exactly once across three replicas, with no gap', async () => {
    await waitFor(() => runs.length >= TICKS, { timeoutMs: 30_000, description: `${TICKS} ticks` });
    const seen = [...runs];
    const unique = [...new Set(seen)].sort((a, b) => a - b);
    const missing: number[] = [];
    for (let t = unique[0]; t <= unique[unique.length - 1]; t += EVERY) if (!unique.includes(t)) missing.push(t);
    report('schedule every 200 ms, 3 replicas on a 3-master Cluster', { ticks: seen.length, missing: missing.length, repeats: seen.length - unique.length });
    expect(missing).toEqual([]);
    expect(seen.length - unique.length).toBe(0);
    expect(unique.every((t) => t % EVERY === 0)).toBe(true);
  });

  it('upserts one schedule from three replicas and delivers its ticks to a stream and a queue on other masters', async () => {
    const results = await Promise.all(apps.map((app) => app.get(SchedulerService).schedule('c-to-stream', { every: 100, limit: 5 }, { stream: 'c-events' }, { n: 1 })));
    expect(results.filter((r) => r === 'created')).toHaveLength(1);
    await apps[0].get(SchedulerService).schedule('c-to-queue', { every: 100, limit: 5 }, { queue: 'c-orders' });
    const scheduleMaster = await masterPortOf(cluster.nodes, new ScheduleKeys('').index);
    const streamMaster = await masterPortOf(cluster.nodes, new StreamKeys('c-events', '').stream);
    const queueMaster = await masterPortOf(cluster.nodes, 'c-orders');
    expect(new Set([scheduleMaster, streamMaster, queueMaster]).size).toBeGreaterThan(1);
    await waitFor(async () => (await plain.xlen('c-events')) === 5 && (await plain.llen('c-orders')) === 5, { timeoutMs: 20_000, description: '5 ticks each' });
    const list = await apps[1].get(SchedulerService).schedules();
    expect(list.filter((s) => s.id.startsWith('c-to-')).map((s) => [s.id, s.runs, s.nextRunAt])).toEqual([['c-to-queue', 5, null], ['c-to-stream', 5, null]]);
  });
});
