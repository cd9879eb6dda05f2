import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { QueueDeadLetterService, QueueHandler, QueueKeys } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const MAX_DEATHS = 2;

@Injectable()
class PoisonedHandler {
  @QueueHandler('poisoned', { maxDeaths: MAX_DEATHS })
  handle(): void {}
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

describe('a poison message quarantined by the reaper', () => {
  const broker = useBrokerApp({ heartbeatIntervalMs: 100, consumerTtlMs: 1_000 }, [PoisonedHandler]);

  /** Leaves `message` in the processing list of a dead consumer that died running it for the last allowed time. */
  async function quarantine(consumer: string, message: string): Promise<Record<string, unknown>> {
    const keys = new QueueKeys('poisoned', '');
    await broker.plain.hset(keys.deaths, sha1(message), MAX_DEATHS - 1);
    await broker.plain.lpush(keys.processing(consumer), message);
    await broker.plain.zadd(keys.consumers, 0, consumer);
    await waitFor(async () => (await broker.plain.zscore(keys.consumers, consumer)) === null, { timeoutMs: 30_000, description: `the reaper to reap ${consumer}` });
    const dead = await broker.app.get(QueueDeadLetterService).list('poisoned', { limit: 100 });
    const record = dead.find((entry) => entry.message === message);
    expect(record).toMatchObject({ reason: 'poison' });
    return record as unknown as Record<string, unknown>;
  }

  it('records the envelope id as its messageId', async () => {
    const message = JSON.stringify({ __nrb: 1, id: 'order-42', t: 1_700_000_000_000, h: { tenant: 'acme' }, p: { order: 42 } });
    expect(await quarantine('ghost-envelope', message)).toMatchObject({ messageId: 'order-42' });
  });

  it('records the sha1 of a plain message as its messageId, as a worker derives it', async () => {
    const message = JSON.stringify({ order: 43 });
    expect(await quarantine('ghost-plain', message)).toMatchObject({ messageId: sha1(message) });
  });

  it('does not take a payload that carries the marker as data for an envelope', async () => {
    // The marker and an id, but an extra key: not an envelope to core/envelope.ts, so not here either.
    const message = JSON.stringify({ __nrb: 1, id: 'not-an-envelope', t: 1, p: {}, extra: true });
    expect(await quarantine('ghost-lookalike', message)).toMatchObject({ messageId: sha1(message) });
  });
});
