import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { QueueHandler, QueueKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred, type CapturingLogger } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const QUEUE = 'oom';
const IDLE_QUEUE = 'oom-idle';
const STUCK_QUEUE = 'oom-stop';
const HEARTBEAT_MS = 100;
/** Long enough that a loaded machine's event-loop stall does not look like death. */
const CONSUMER_TTL_MS = 3_000;
/** Written in small pieces: a client's query buffer holding one big value would count as used memory for a while. */
const FILLER_PIECES = 64;
const FILLER_PIECE_BYTES = 64 * 1024;
const fillerKeys = Array.from({ length: FILLER_PIECES }, (_, i) => `filler:${i}`);

const gate = deferred();
const runs: string[] = [];

@Injectable()
class HeldHandler {
  /** Holds each message until the test opens the gate: every consumer is busy through the episode. */
  @QueueHandler(QUEUE, { concurrency: 1 })
  async hold(payload: { id: string }): Promise<void> {
    runs.push(payload.id);
    await gate.promise;
  }

  /** Idle through the episode: its blocking wait is refused while Redis is out of memory. */
  @QueueHandler(IDLE_QUEUE, { blockTimeoutMs: 100 })
  idle(payload: { id: string }): void {
    runs.push(payload.id);
  }
}

/** Puts Redis past its maxmemory: every command that may grow memory is refused until `freeMemory`. */
async function fillPastMaxmemory(client: Redis): Promise<void> {
  await client.config('SET', 'maxmemory', '0');
  for (const key of fillerKeys) await client.set(key, Buffer.alloc(FILLER_PIECE_BYTES, 120));
  const usedMemory = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  await client.config('SET', 'maxmemory', String(usedMemory - (FILLER_PIECES * FILLER_PIECE_BYTES) / 2));
  await expect(client.zadd('oom-probe', 0, 'probe')).rejects.toThrow(/OOM/);
}

async function freeMemory(client: Redis): Promise<void> {
  await client.del(...fillerKeys);
}

async function redisTimeMs(client: Redis): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Never finishes: stopping its consumer hands the message back at the shutdown deadline. */
@Injectable()
class StuckHandler {
  @QueueHandler(STUCK_QUEUE)
  async stuck(payload: { id: string }): Promise<void> {
    runs.push(payload.id);
    await new Promise<never>(() => undefined);
  }
}

describe('a reliable queue when Redis reaches maxmemory (noeviction)', () => {
  const ctx = useRedis({ args: ['--maxmemory-policy', 'noeviction'] }, { flushBeforeEach: false });
  const apps: { app: INestApplicationContext; logger: CapturingLogger }[] = [];
  const keys = new QueueKeys(QUEUE, '');
  const stuckKeys = new QueueKeys(STUCK_QUEUE, '');

  afterAll(async () => {
    gate.resolve();
    for (const { app } of apps) await app.close();
  });

  it('keeps every consumer alive through the episode: none is reaped, no death is counted', async () => {
    // Three consumers, each running one message it holds until the end.
    for (const id of ['a', 'b', 'c']) {
      apps.push(await bootBroker(
        { connection: { url: ctx.redis.url }, instanceId: `consumer-${id}`, heartbeatIntervalMs: HEARTBEAT_MS, consumerTtlMs: CONSUMER_TTL_MS },
        [HeldHandler],
      ));
      await ctx.plain.lpush(QUEUE, JSON.stringify({ id }));
      await waitFor(() => runs.includes(id), { description: `consumer ${id} to run message ${id}` });
    }
    expect(await ctx.plain.zcard(keys.consumers)).toBe(3);

    await fillPastMaxmemory(ctx.plain);

    // Past the deadline every consumer had when the episode began, each heartbeat has been tried at least once.
    const deadlines = (await ctx.plain.zrange(keys.consumers, '0', '-1', 'WITHSCORES')).filter((_, i) => i % 2 === 1).map(Number);
    const lastDeadline = Math.max(...deadlines);
    await waitFor(async () => (await redisTimeMs(ctx.plain)) > lastDeadline + HEARTBEAT_MS, {
      timeoutMs: 30_000,
      intervalMs: 50,
      description: 'every heartbeat deadline from before the episode to pass',
    });
    await expect(ctx.plain.zadd(keys.consumers, 0, 'probe')).rejects.toThrow(/OOM/);

    // Memory frees; wait until each consumer has heart-beaten since (each reaper ran a pass after it).
    await freeMemory(ctx.plain);
    const freedAt = await redisTimeMs(ctx.plain);
    await waitFor(
      async () => {
        const scores = await ctx.plain.zmscore(keys.consumers, 'consumer-a', 'consumer-b', 'consumer-c');
        return scores.every((score) => score !== null && Number(score) > freedAt + CONSUMER_TTL_MS);
      },
      { timeoutMs: 30_000, description: 'every consumer to heart-beat after memory was freed' },
    );

    expect(await ctx.plain.hlen(keys.deaths)).toBe(0);
    expect(await ctx.plain.llen(QUEUE)).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(await ctx.plain.llen(keys.processing(`consumer-${id}`))).toBe(1);
    for (const { logger } of apps) expect(logger.text()).not.toMatch(/stopped heart-beating/);

    gate.resolve();
    // The idle consumers' blocking waits were refused meanwhile; their loops came back by themselves.
    expect(apps.some(({ logger }) => /could not fetch: OOM/.test(logger.text()))).toBe(true);
    await ctx.plain.lpush(IDLE_QUEUE, JSON.stringify({ id: 'after' }));
    await waitForQueuesIdle(ctx.redis.url, [QUEUE, IDLE_QUEUE], { timeoutMs: 30_000 });
    expect(runs.sort()).toEqual(['a', 'after', 'b', 'c']);
  });

  it('hands back what a stopping consumer holds, as an orderly stop, while Redis is out of memory', async () => {
    const stopping = await bootBroker(
      { connection: { url: ctx.redis.url }, instanceId: 'stopping', heartbeatIntervalMs: HEARTBEAT_MS, consumerTtlMs: CONSUMER_TTL_MS, shutdownTimeoutMs: 100 },
      [StuckHandler],
    );
    await ctx.plain.lpush(STUCK_QUEUE, JSON.stringify({ id: 'stuck' }));
    await waitFor(() => runs.includes('stuck'), { description: 'the message to start' });

    await fillPastMaxmemory(ctx.plain);
    try {
      // Its handler never finishes: at the deadline the message goes back to the queue.
      await stopping.app.close();
      expect(await ctx.plain.lrange(STUCK_QUEUE, 0, -1)).toEqual([JSON.stringify({ id: 'stuck' })]);
      expect(await ctx.plain.llen(stuckKeys.processing('stopping'))).toBe(0);
      expect(await ctx.plain.zscore(stuckKeys.consumers, 'stopping')).toBeNull();
      expect(await ctx.plain.hlen(stuckKeys.deaths)).toBe(0);
    } finally {
      await freeMemory(ctx.plain);
    }
  });
});
