import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { BrokerClient, Ctx, Payload, StreamConsumer, StreamInspector, type StreamMessageContext } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const analytics: { fields: Record<string, string>; ctx: StreamMessageContext }[] = [];
const audit: { userId: string; ctx: StreamMessageContext }[] = [];
const shared: { consumer: string; id: string }[] = [];
const replayed: string[] = [];

@Injectable()
class AnalyticsConsumer {
  @StreamConsumer({ stream: 'user-events', group: 'analytics' })
  track(@Payload() fields: Record<string, string>, @Ctx() ctx: StreamMessageContext): void {
    analytics.push({ fields, ctx });
  }
}

@Injectable()
class AuditConsumer {
  @StreamConsumer({ stream: 'user-events', group: 'audit', startId: '$' })
  record(@Payload('userId') userId: string, @Ctx() ctx: StreamMessageContext): void {
    audit.push({ userId, ctx });
  }
}

@Injectable()
class SharedWorkConsumer {
  @StreamConsumer({ stream: 'shared-work', group: 'workers', concurrency: 2 })
  async work(@Ctx() ctx: StreamMessageContext): Promise<void> {
    // Long enough that one consumer cannot drain the batch alone before the other reads.
    await new Promise((resolve) => setTimeout(resolve, 20));
    shared.push({ consumer: ctx.consumer, id: ctx.id });
  }
}

@Injectable()
class LateReplayConsumer {
  @StreamConsumer({ stream: 'history', group: 'late', startId: '0' })
  replay(@Ctx() ctx: StreamMessageContext): void {
    replayed.push(ctx.id);
  }
}

describe('stream consumer groups', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    const connection = { url: ctx.redis.url };
    apps.push((await bootBroker({ connection, instanceId: 'node-a' }, [AnalyticsConsumer, AuditConsumer, SharedWorkConsumer])).app);
    apps.push((await bootBroker({ connection, instanceId: 'node-b' }, [SharedWorkConsumer])).app);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('delivers entries XADDed by a plain client to every group exactly once, in id order', async () => {
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'user-events', group: 'analytics' }, { stream: 'user-events', group: 'audit' }]);
    const ids: string[] = [];
    for (let i = 1; i <= 20; i += 1) {
      ids.push((await ctx.plain.xadd('user-events', '*', 'userId', `u${i}`, 'eventType', 'login', 'data', 'successful')) as string);
    }
    const stats = await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'user-events', group: 'analytics' }, { stream: 'user-events', group: 'audit' }]);
    expect(stats.map((s) => s.dead)).toEqual([0, 0]);
    expect(analytics.map((e) => e.ctx.id)).toEqual(ids);
    expect(audit.map((e) => e.ctx.id)).toEqual(ids);
    expect(analytics[0].fields).toEqual({ userId: 'u1', eventType: 'login', data: 'successful' });
    expect(audit.map((e) => e.userId)).toEqual(ids.map((_, i) => `u${i + 1}`));
    expect(analytics[0].ctx).toMatchObject({ stream: 'user-events', group: 'analytics', consumer: 'node-a', deliveryCount: 1, requeued: false });
  });

  it('writes appended entries as a flat field map a plain client reads, JSON-encoding nested values', async () => {
    const client = apps[0].get(BrokerClient);
    const id = await client.append('plain-read', { userId: 'u1', eventType: 'purchase', data: { product: 'abc', qty: 2 }, timestamp: 1700000000000 });
    const [[readId, fields]] = (await ctx.plain.xrange('plain-read', '-', '+')) as [string, string[]][];
    expect(readId).toBe(id);
    expect(fields).toEqual(['userId', 'u1', 'eventType', 'purchase', 'data', '{"product":"abc","qty":2}', 'timestamp', '1700000000000']);
    const ids = await client.appendMany('plain-read', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(ids).toHaveLength(3);
    expect(await ctx.plain.xlen('plain-read')).toBe(4);
    expect([...ids].sort()).toEqual(ids);
  });

  it('shares the entries of one group among its consumers, each entry handled once', async () => {
    const client = apps[0].get(BrokerClient);
    const ids = await client.appendMany('shared-work', Array.from({ length: 40 }, (_, n) => ({ n })));
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'shared-work', group: 'workers' }]);
    expect(shared.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(new Set(shared.map((s) => s.consumer))).toEqual(new Set(['node-a', 'node-b']));
  });

  it('replays the stream history to a group created later with start id 0', async () => {
    const history: string[] = [];
    for (let i = 0; i < 5; i += 1) history.push((await ctx.plain.xadd('history', '*', 'n', String(i))) as string);
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'late-node' }, [LateReplayConsumer]);
    apps.push(app);
    await waitFor(() => replayed.length === 5, { description: 'the late group to replay the history' });
    expect(replayed).toEqual(history);
    const stats = await app.get(StreamInspector).stats('history');
    expect(stats.groups).toEqual([expect.objectContaining({ group: 'late', lag: 0, pending: 0 })]);
  });
});
