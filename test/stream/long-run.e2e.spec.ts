import { Injectable } from '@nestjs/common';
import { Ctx, StreamConsumer, type StreamMessageContext } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const CLAIM_IDLE_MS = 1_000;
/** Three times claimIdleMs. */
const RUN_MS = 3_000;

const runs: { consumer: string; deliveries: number }[] = [];
let running = false;

@Injectable()
class LongRender {
  @StreamConsumer({ stream: 'videos', group: 'encoders', claimIdleMs: CLAIM_IDLE_MS, reclaimIntervalMs: 100 })
  async encode(@Ctx() ctx: StreamMessageContext): Promise<void> {
    runs.push({ consumer: ctx.consumer, deliveries: ctx.deliveryCount });
    running = true;
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    running = false;
  }
}

describe('a stream handler running longer than claimIdleMs', () => {
  const ctx = useRedis();

  it('runs once with two consumers in the group: its idle time is kept fresh, so the other never takes it over', async () => {
    const first = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'first' }, [LongRender]);
    const second = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'second' }, [LongRender]);
    try {
      const id = (await ctx.plain.xadd('videos', '*', 'file', 'holiday.mp4')) as string;
      await waitFor(() => running, { description: 'the handler to start' });
      const owner = runs[0].consumer;
      // Read all along the run: the entry stays with its consumer, delivered once, never idle for claimIdleMs.
      const seen: [string, string, number, number][][] = [];
      while (running) {
        seen.push((await ctx.plain.xpending('videos', 'encoders', '-', '+', 10)) as [string, string, number, number][]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen.length).toBeGreaterThan(RUN_MS / CLAIM_IDLE_MS);
      // The last read may land after the run ended and its XACK removed it.
      for (const rows of seen.slice(0, -1)) {
        expect(rows).toHaveLength(1);
        const [entryId, consumer, idle, deliveries] = rows[0];
        expect({ entryId, consumer, deliveries }).toEqual({ entryId: id, consumer: owner, deliveries: 1 });
        expect(idle).toBeLessThan(CLAIM_IDLE_MS);
      }
      await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'videos', group: 'encoders' }]);
      expect(runs).toEqual([{ consumer: owner, deliveries: 1 }]);
      expect(`${first.logger.text()}\n${second.logger.text()}`).not.toContain('took over');
    } finally {
      await first.app.close();
      await second.app.close();
    }
  });
});
