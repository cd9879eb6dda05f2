import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { BrokerClient, Payload, StreamConsumer, StreamInspector } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { bootBroker, type CapturingLogger } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';
import { spawnFixture, type FixtureProcess } from '../support/processes.js';

const survivorHandled: string[] = [];
const resumed: string[] = [];

@Injectable()
class SurvivorConsumer {
  // Same stream and group as the fault-worker fixture started below.
  @StreamConsumer({ stream: 'jobs-stream', group: 'workers', claimIdleMs: 500, reclaimIntervalMs: 100, concurrency: 4 })
  handle(@Payload('n') n: string): void {
    survivorHandled.push(n);
  }
}

@Injectable()
class ResumingConsumer {
  @StreamConsumer({ stream: 'ticks', group: 'counter', blockTimeoutMs: 200 })
  count(@Payload('n') n: string): void {
    resumed.push(n);
  }
}

describe('stream consumers through crashes and Redis restarts', () => {
  const apps: INestApplicationContext[] = [];
  const fixtures: FixtureProcess[] = [];

  const ctx = useRedis({}, { flushBeforeEach: false });

  afterEach(async () => {
    for (const fixture of fixtures.splice(0)) {
      fixture.child.kill('SIGKILL');
      await fixture.exited;
    }
    for (const app of apps.splice(0)) await app.close();
  });

  it('lets a surviving consumer reclaim and handle the pending entries of a consumer killed mid-batch', async () => {
    const worker = spawnFixture('fault-worker', {
      REDIS_URL: ctx.redis.url, KIND: 'stream', NAME: 'jobs-stream', CONSUMER: 'doomed', WORK_MS: '60000', CONCURRENCY: '4', PREFETCH: '8',
      // It must not take its own waiting entries over before it is killed.
      CLAIM_IDLE_MS: '60000',
    });
    fixtures.push(worker);
    await worker.ready;
    const ids: string[] = [];
    for (let n = 0; n < 10; n += 1) ids.push((await ctx.plain.xadd('jobs-stream', '*', 'n', String(n))) as string);
    // The worker holds a batch of 8: 4 running (each takes a minute), 4 waiting in memory.
    await waitFor(async () => (await ctx.plain.llen('started:jobs-stream')) === 4 && (await ctx.plain.xpending('jobs-stream', 'workers'))[0] === 8, {
      description: 'the worker to hold a batch',
    });
    worker.child.kill('SIGKILL');
    await worker.exited;
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'survivor' }, [SurvivorConsumer]);
    apps.push(app);
    await waitForStreamGroupsIdle(ctx.redis.url, [{ stream: 'jobs-stream', group: 'workers' }], { timeoutMs: 15_000 });
    expect([...survivorHandled].sort((a, b) => Number(a) - Number(b))).toEqual(ids.map((_, n) => String(n)));
    expect(await ctx.plain.llen('handled:jobs-stream')).toBe(0);
    const consumers = await app.get(StreamInspector).consumers('jobs-stream', 'workers');
    expect(consumers.find((c) => c.consumer === 'doomed')?.pending).toBe(0);
  });

  it('resumes consumption after Redis restarts without persistence, recreating the group', async () => {
    const { app, logger } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'resumer' }, [ResumingConsumer]);
    apps.push(app);
    const client = app.get(BrokerClient);
    await client.append('ticks', { n: 'before' });
    await waitFor(() => resumed.includes('before'), { description: 'the first entry' });
    await ctx.redis.kill();
    await ctx.redis.start();
    await waitFor(async () => hasWarning(logger, /Consumer group "counter" of stream "ticks" is gone/), {
      timeoutMs: 15_000, description: 'the group to be recreated',
    });
    await client.append('ticks', { n: 'after' });
    await waitFor(() => resumed.includes('after'), { timeoutMs: 15_000, description: 'consumption to resume' });
    expect(resumed).toEqual(['before', 'after']);
  });

  it('keeps a trimmed stream at its bound under continuous appends', async () => {
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, streams: { 'bounded-events': { maxLen: 1000 } } }, []);
    apps.push(app);
    const client = app.get(BrokerClient);
    let maxSeen = 0;
    for (let round = 0; round < 10; round += 1) {
      await client.appendMany('bounded-events', Array.from({ length: 500 }, (_, i) => ({ round, i })));
      maxSeen = Math.max(maxSeen, await ctx.plain.xlen('bounded-events'));
    }
    // Approximate trimming removes whole nodes (stream-node-max-entries, 100 by default).
    expect(maxSeen).toBeLessThanOrEqual(1000 + 100);
    expect(await ctx.plain.xlen('bounded-events')).toBeGreaterThanOrEqual(1000);
    await client.append('bounded-events', { last: true }, { maxLen: 10 });
    expect(await ctx.plain.xlen('bounded-events')).toBeLessThanOrEqual(10 + 100);
  });
});

function hasWarning(logger: CapturingLogger, pattern: RegExp): boolean {
  return logger.lines.some((l) => l.level === 'warn' && pattern.test(l.message));
}
