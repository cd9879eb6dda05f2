import { Injectable } from '@nestjs/common';
import { QueueHandler, QueueKeys } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

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
  const keys = new QueueKeys(QUEUE, '');

  const broker = useBrokerApp({ instanceId: 'beating', heartbeatIntervalMs: 100, consumerTtlMs: 10_000 }, [BeatHandler]);

  function reaperFailures(): number {
    return broker.logger.lines.filter((line) => line.message.startsWith(`Heartbeat/reap of queue "${QUEUE}" failed`)).length;
  }

  it('takes no new message until a heartbeat lands again', async () => {
    await waitFor(async () => (await broker.plain.zscore(keys.consumers, 'beating')) !== null, { description: 'the consumer to register' });

    // The heartbeat's ZADD now fails (WRONGTYPE) while fetching would still work.
    await broker.plain.set(keys.consumers, 'not a sorted set');
    // A fetch begun after a failed tick is refused: wait for the first refusal
    // (a blocking fetch already under way may still take a message).
    const refused = (): boolean => /could not fetch: Heartbeat of queue "beats" failed: .*WRONGTYPE/.test(broker.logger.text());
    await waitFor(() => refused() || reaperFailures() >= 20, { timeoutMs: 30_000, description: 'a fetch to be refused' });
    await broker.plain.lpush(QUEUE, JSON.stringify({ id: 'while-failing' }));
    // Ten more heartbeat ticks fail meanwhile (the fetch loop retries several times in that span).
    const failuresSoFar = reaperFailures();
    await waitFor(() => reaperFailures() >= failuresSoFar + 10 || handled.length > 0, {
      timeoutMs: 30_000,
      description: 'ten more failed heartbeat ticks',
    });
    expect(handled).toEqual([]);
    expect(await broker.plain.llen(QUEUE)).toBe(1);
    expect(refused()).toBe(true);

    // A heartbeat lands again: the consumer takes the message.
    await broker.plain.del(keys.consumers);
    await waitFor(() => handled.length === 1, { timeoutMs: 30_000, description: 'the message to be handled' });
    expect(handled).toEqual(['while-failing']);
    expect(await broker.plain.zscore(keys.consumers, 'beating')).not.toBeNull();
    await waitForQueuesIdle(broker.redis.url, [QUEUE]);
  });
});
