import { Redis } from 'ioredis';
import { startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// White-box: what a reclaimer remembers is not visible through the public
// API, and the leak it had grows by one entry per takeover, far too slowly
// to see in process memory. The reclaimer runs against a real Redis here.
import type { RedisClient } from 'nest-redis-broker';
import { defineBrokerScripts, PendingReclaimer, type RawStreamEntry } from 'nest-redis-broker/internal';

const ENTRIES = 50;
const CLAIM_IDLE_MS = 200;

describe('the pending reclaimer', () => {
  let redis: RedisServerHandle;
  let command: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    command = new Redis(redis.url);
    defineBrokerScripts(command as RedisClient);
  });

  afterAll(async () => {
    command?.disconnect();
    await redis?.stop();
  });

  it('forgets the retry delay of a failed entry that another consumer took over and handled', async () => {
    await command.xgroup('CREATE', 'tasks', 'workers', '$', 'MKSTREAM');
    for (let i = 0; i < ENTRIES; i += 1) await command.xadd('tasks', '*', 'n', String(i));
    const [[, read]] = (await command.xreadgroup('GROUP', 'workers', 'a', 'COUNT', ENTRIES, 'STREAMS', 'tasks', '>')) as [string, RawStreamEntry[]][];
    const reclaimer = new PendingReclaimer(['tasks'], 'workers', 'a', command as RedisClient, {
      claimIdleMs: CLAIM_IDLE_MS,
      reclaimIntervalMs: 10,
      backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 50, jitter: true },
      batch: 100,
    }, () => false);
    // Consumer "a" fails every entry and waits for its retry; meanwhile "b"
    // takes them all over (a was presumed dead) and handles them.
    for (const [id, fields] of read) reclaimer.scheduleRetry({ key: 'tasks', id, fields, deliveries: 1, requeued: false }, 40);
    await command.call('XCLAIM', 'tasks', 'workers', 'b', 0, ...read.map(([id]) => id), 'JUSTID');
    await command.xack('tasks', 'workers', ...read.map(([id]) => id));
    const remembered = (): number => (reclaimer as unknown as { retryDelays: Map<string, unknown> }).retryDelays.size;
    expect(remembered()).toBe(ENTRIES);

    await waitFor(async () => {
      expect(await reclaimer.due(100)).toEqual([]);
      return remembered() === 0;
    }, { timeoutMs: 10_000, description: 'the reclaimer to forget the entries consumer "b" took over and handled' });
  });
});
