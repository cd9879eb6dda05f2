import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, OnChannel, Payload, QueueHandler, QueueInspector, StreamConsumer } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';
import { BROKER_ACL_RULES, CLUSTER_ACL_RULES } from './broker-acl.js';

const seen: string[] = [];

@Injectable()
class ClusterAclHandlers {
  @QueueHandler('orders')
  order(@Payload('id') id: number): void { seen.push(`q${id}`); }

  @StreamConsumer({ stream: 'events', group: 'g' })
  event(@Payload('n') n: string): void { seen.push(`s${n}`); }

  @OnChannel({ channel: 'alerts', sharded: true })
  alert(@Payload('n') n: number): void { seen.push(`sh${n}`); }

  @OnChannel('news')
  news(@Payload('n') n: number): void { seen.push(`c${n}`); }
}

describe('the least-privilege ACL user on a Redis Cluster', () => {
  let cluster: RedisClusterHandle;

  beforeAll(async () => {
    cluster = await startRedisCluster({ args: ['--user', 'broker', ...BROKER_ACL_RULES, ...CLUSTER_ACL_RULES] });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('consumes queues, streams, plain and sharded channels with the documented rules plus the cluster ones', async () => {
    const { app, logger } = await bootBroker({
      connection: { cluster: { nodes: cluster.nodes, options: { redisOptions: { username: 'broker', password: 's3cret-broker-pw' } } } },
      keyPrefix: 'app:',
    }, [ClusterAclHandlers]);
    try {
      const client = app.get(BrokerClient);
      await client.enqueue('orders', { id: 1 });
      await client.append('events', { n: '1' });
      await client.publish('alerts', { n: 1 }, { sharded: true });
      await client.publish('news', { n: 1 });
      await waitFor(() => ['q1', 's1', 'sh1', 'c1'].every((s) => seen.includes(s)), { description: 'every handler to run' });
      expect(await app.get(QueueInspector).stats('orders')).toMatchObject({ waiting: 0, processing: 0 });
    } finally {
      await app.close();
    }
    const logs = await Promise.all(cluster.nodes.map(async ({ port }) => {
      const admin = new Redis({ port, host: '127.0.0.1' });
      try {
        return JSON.stringify(await admin.call('ACL', 'LOG'));
      } finally {
        admin.disconnect();
      }
    }));
    expect(logs).toEqual(cluster.nodes.map(() => '[]'));
    expect(logger.text()).not.toMatch(/NOPERM/);
  });
});
