import { Injectable } from '@nestjs/common';
import { Ctx, StreamConsumer, type StreamMessageContext } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const finished: string[] = [];
const started: string[] = [];
const stuck = deferred();
const rerun: { id: string; deliveries: number; consumer: string }[] = [];

@Injectable()
class SlowConsumer {
  @StreamConsumer({ stream: 'reports', group: 'renderers', concurrency: 2 })
  async render(@Ctx() ctx: StreamMessageContext): Promise<void> {
    started.push(ctx.id);
    // The first entry finishes quickly; the second never finishes before shutdown.
    if (started.length === 1) await new Promise((resolve) => setTimeout(resolve, 50));
    else await stuck.promise;
    finished.push(ctx.id);
  }
}

@Injectable()
class TakeoverConsumer {
  @StreamConsumer({ stream: 'reports', group: 'renderers', claimIdleMs: 200, reclaimIntervalMs: 50 })
  render(@Ctx() ctx: StreamMessageContext): void {
    rerun.push({ id: ctx.id, deliveries: ctx.deliveryCount, consumer: ctx.consumer });
  }
}

describe('stream consumer shutdown', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  afterAll(() => {
    stuck.resolve();
  });

  it('finishes running handlers until the deadline and leaves the unfinished entry pending for another consumer', async () => {
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'leaving', shutdownTimeoutMs: 300 }, [SlowConsumer]);
    const first = (await ctx.plain.xadd('reports', '*', 'report', 'r1')) as string;
    const second = (await ctx.plain.xadd('reports', '*', 'report', 'r2')) as string;
    await waitFor(() => started.length === 2, { description: 'both handlers to start' });
    await app.close();
    expect(finished).toEqual([first]);
    const [count, , , consumers] = (await ctx.plain.xpending('reports', 'renderers')) as [number, string, string, [string, string][]];
    expect(count).toBe(1);
    expect(consumers).toEqual([['leaving', '1']]);

    const next = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'taking-over' }, [TakeoverConsumer]);
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'reports', group: 'renderers' }]);
    expect(rerun).toEqual([{ id: second, deliveries: 2, consumer: 'taking-over' }]);
    await next.app.close();
  });
});
