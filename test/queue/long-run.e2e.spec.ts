import { Injectable } from '@nestjs/common';
import { QueueHandler, QueueKeys, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const HEARTBEAT_MS = 100;
const CONSUMER_TTL_MS = 300;
/** Several times the heartbeat TTL, and so many reaper passes of the other process. */
const RUN_MS = 2_000;

const runs: string[] = [];
let running = false;

@Injectable()
class LongJob {
  @QueueHandler('long')
  async run(_payload: unknown, ctx: QueueMessageContext): Promise<void> {
    runs.push(ctx.consumer);
    running = true;
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    running = false;
  }
}

describe('a reliable queue handler running far longer than the heartbeat TTL', () => {
  const ctx = useRedis();

  it('runs once: its heartbeat keeps it alive, so the other process never reaps the message back into the queue', async () => {
    const options = { heartbeatIntervalMs: HEARTBEAT_MS, consumerTtlMs: CONSUMER_TTL_MS, connection: { url: ctx.redis.url } };
    const first = await bootBroker({ ...options, instanceId: 'first' }, [LongJob]);
    const second = await bootBroker({ ...options, instanceId: 'second' }, [LongJob]);
    try {
      await ctx.plain.lpush('long', JSON.stringify({ report: 'yearly' }));
      await waitFor(() => running, { description: 'the handler to start' });
      const owner = runs[0];
      const keys = new QueueKeys('long', '');
      // Read all along the run: the message stays in its consumer's processing list, never back in the queue.
      const seen: { queued: number; processing: number }[] = [];
      while (running) {
        seen.push({ queued: await ctx.plain.llen('long'), processing: await ctx.plain.llen(keys.processing(owner)) });
        await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS / 2));
      }
      expect(seen.length).toBeGreaterThan(RUN_MS / CONSUMER_TTL_MS);
      expect(seen.filter((s) => s.queued !== 0)).toEqual([]);
      // The last read may land after the run ended and its ack removed it.
      expect(seen.slice(0, -1).filter((s) => s.processing !== 1)).toEqual([]);
      await waitForQueuesIdle(ctx.redis.url, ['long']);
      expect(runs).toEqual([owner]);
      expect(`${first.logger.text()}\n${second.logger.text()}`).not.toContain('stopped heart-beating');
    } finally {
      await first.app.close();
      await second.app.close();
    }
  });
});
