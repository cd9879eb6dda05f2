import { Injectable } from '@nestjs/common';
import { QueueHandler, QueueInspector, QueueKeys } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

let gate = deferred();
const started: unknown[] = [];

@Injectable()
class GatedHandlers {
  @QueueHandler('fastq', { mode: 'fast' })
  async fast(payload: unknown): Promise<void> {
    started.push(payload);
    await gate.promise;
  }

  @QueueHandler('slowq', { concurrency: 1, prefetch: 3 })
  async slow(payload: unknown): Promise<void> {
    started.push(payload);
    await gate.promise;
  }
}

describe('fast mode and shutdown deadlines', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  it('fast mode holds a running message only in memory (at-most-once, as documented)', async () => {
    started.length = 0;
    gate = deferred();
    const { app } = await bootBroker({ connection: { url: ctx.redis.url } }, [GatedHandlers]);
    try {
      await ctx.plain.lpush('fastq', '"in-flight"');
      await waitFor(() => started.includes('in-flight'), { description: 'the handler to start' });
      // Nowhere in Redis: a crash now would lose it.
      expect(await ctx.plain.llen('fastq')).toBe(0);
      expect(await ctx.plain.keys('{fastq}:*')).toEqual([]);
    } finally {
      gate.resolve();
      await app.close();
    }
  });

  it('hands messages back to the queue when handlers outlive the shutdown deadline', async () => {
    started.length = 0;
    gate = deferred();
    const { app, logger } = await bootBroker({ connection: { url: ctx.redis.url }, shutdownTimeoutMs: 100 }, [GatedHandlers]);
    await ctx.plain.lpush('slowq', '"m1"', '"m2"', '"m3"');
    await waitFor(() => started.length === 1, { description: 'the first handler to start' });
    expect((await app.get(QueueInspector).stats('slowq')).processing).toBe(3);
    await app.close();
    // The deadline, not the time left at the moment it was found passed (that was always 0 ms).
    expect(logger.text()).toMatch(/Shutdown deadline \(shutdownTimeoutMs\) passed with 1 handler\(s\) of queue "slowq" still running/);
    const keys = new QueueKeys('slowq', '');
    // Oldest first at the consuming end: m1 is taken next.
    expect(await ctx.plain.lrange('slowq', 0, -1)).toEqual(['"m3"', '"m2"', '"m1"']);
    expect(await ctx.plain.zcard(keys.consumers)).toBe(0);
    gate.resolve();
  });
});
