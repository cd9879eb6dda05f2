import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { QueueHandler, QueueKeys } from 'nest-redis-broker';
import { startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, type CapturingLogger } from '../support/broker-app.js';

const QUEUE = 'beats';
const handled: string[] = [];

@Injectable()
class BeatHandler {
  @QueueHandler(QUEUE, { blockTimeoutMs: 100 })
  handle(payload: { id: string }): void {
    handled.push(payload.id);
  }
}

describe('a reliable consumer whose heartbeat fails', () => {
  let redis: RedisServerHandle;
  let plain: Redis;
  let app: INestApplicationContext;
  let logger: CapturingLogger;
  const keys = new QueueKeys(QUEUE, '');

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    ({ app, logger } = await bootBroker(
      { connection: { url: redis.url }, instanceId: 'beating', heartbeatIntervalMs: 100, consumerTtlMs: 10_000 },
      [BeatHandler],
    ));
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  function reaperFailures(): number {
    return logger.lines.filter((line) => line.message.startsWith(`Heartbeat/reap of queue "${QUEUE}" failed`)).length;
  }

  it('takes no new message until a heartbeat lands again', async () => {
    await waitFor(async () => (await plain.zscore(keys.consumers, 'beating')) !== null, { description: 'the consumer to register' });

    // The heartbeat's ZADD now fails (WRONGTYPE) while fetching would still work.
    await plain.set(keys.consumers, 'not a sorted set');
    // A fetch begun after a failed tick is refused: wait for the first refusal
    // (a blocking fetch already under way may still take a message).
    const refused = (): boolean => /could not fetch: Heartbeat of queue "beats" failed: .*WRONGTYPE/.test(logger.text());
    await waitFor(() => refused() || reaperFailures() >= 20, { timeoutMs: 30_000, description: 'a fetch to be refused' });
    await plain.lpush(QUEUE, JSON.stringify({ id: 'while-failing' }));
    // Ten more heartbeat ticks fail meanwhile (the fetch loop retries several times in that span).
    const failuresSoFar = reaperFailures();
    await waitFor(() => reaperFailures() >= failuresSoFar + 10 || handled.length > 0, {
      timeoutMs: 30_000,
      description: 'ten more failed heartbeat ticks',
    });
    expect(handled).toEqual([]);
    expect(await plain.llen(QUEUE)).toBe(1);
    expect(refused()).toBe(true);

    // A heartbeat lands again: the consumer takes the message.
    await plain.del(keys.consumers);
    await waitFor(() => handled.length === 1, { timeoutMs: 30_000, description: 'the message to be handled' });
    expect(handled).toEqual(['while-failing']);
    expect(await plain.zscore(keys.consumers, 'beating')).not.toBeNull();
    await waitForQueuesIdle(redis.url, [QUEUE]);
  });
});
