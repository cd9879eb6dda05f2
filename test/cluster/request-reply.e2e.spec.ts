import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { BrokerClient, NonRetryableError, QueueHandler, type QueueMessageContext } from 'nest-redis-broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';

const replyLists: string[] = [];

@Injectable()
class ClusterRequestHandlers {
  @QueueHandler('rr-double', { blockTimeoutMs: 500, concurrency: 4 })
  double(n: number, ctx: QueueMessageContext): number {
    replyLists.push(ctx.headers['nrb-reply-to']);
    if (n < 0) throw new NonRetryableError('negative');
    return n * 2;
  }
}

describe('request-reply on a real 3-master Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let app: INestApplicationContext;
  let plain: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    plain = new Cluster(cluster.nodes);
    ({ app } = await bootBroker({ connection: { cluster: { nodes: cluster.nodes } }, keyPrefix: 'app:' }, [ClusterRequestHandlers]));
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await cluster?.stop();
  });

  it('answers requests and failures through a reply list hashed on the client id', async () => {
    const client = app.get(BrokerClient);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => client.request<number>('rr-double', n, { timeoutMs: 20_000 })));
    expect(answers).toEqual(Array.from({ length: 50 }, (_, n) => n * 2));
    await expect(client.request('rr-double', -1, { timeoutMs: 20_000 })).rejects.toMatchObject({ reason: 'non-retryable', handlerError: 'negative' });
    // Hashed on the client id: a slot of its own, never in a command with the queue's keys.
    expect(replyLists[0]).toMatch(/^app:nrb:replies:\{.+\}$/);
    expect(await plain.exists(replyLists[0])).toBe(0);
  });
});
