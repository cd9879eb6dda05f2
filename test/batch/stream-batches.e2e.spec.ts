import { Injectable } from '@nestjs/common';
import {
  BatchResult, BrokerEvents, Ctx, Payload, StreamBatchContext, StreamConsumer, StreamDeadLetterService, type HandledEvent,
} from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

/** Each batch a consumer got, by stream: the entries' `n` fields. */
const batches = new Map<string, string[][]>();
/** Deliveries seen per `n`, by stream. */
const deliveries = new Map<string, Map<string, number[]>>();
const contexts: StreamBatchContext[] = [];

function record(stream: string, fields: Record<string, unknown>[], ctx: StreamBatchContext): void {
  batches.set(stream, [...(batches.get(stream) ?? []), fields.map((f) => String(f.n))]);
  const seen = deliveries.get(stream) ?? new Map<string, number[]>();
  fields.forEach((f, i) => seen.set(String(f.n), [...(seen.get(String(f.n)) ?? []), ctx.entries[i].deliveryCount]));
  deliveries.set(stream, seen);
}

const fast = { backoff: { type: 'fixed' as const, delayMs: 20, jitter: false }, reclaimIntervalMs: 20 };

@Injectable()
class StreamBatchConsumers {
  @StreamConsumer({ stream: 'events', group: 'loader', batch: { size: 10, maxWaitMs: 50 } })
  load(@Payload() fields: Record<string, string>[], @Ctx() ctx: StreamBatchContext): void {
    contexts.push(ctx);
    record('events', fields, ctx);
  }

  @StreamConsumer({ stream: 'partial', group: 'g', batch: { size: 5, maxWaitMs: 50 }, maxDeliveries: 3, ...fast })
  partial(@Payload() fields: Record<string, string>[], @Ctx() ctx: StreamBatchContext): BatchResult {
    record('partial', fields, ctx);
    return BatchResult.failing(fields.flatMap((f, i) => (f.fail === 'yes' ? [i] : [])), new Error('refused'));
  }

  @StreamConsumer({ stream: 'all-fail', group: 'g', batch: { size: 3, maxWaitMs: 50 }, maxDeliveries: 2, ...fast })
  async allFail(@Payload() fields: Record<string, string>[], @Ctx() ctx: StreamBatchContext): Promise<void> {
    record('all-fail', fields, ctx);
    await Promise.resolve();
    throw new Error('sink down');
  }

  @StreamConsumer({ stream: 'json', group: 'g', batch: { size: 5, maxWaitMs: 50 }, parse: 'json-fields' })
  json(@Payload() fields: Record<string, unknown>[], @Ctx() ctx: StreamBatchContext): void {
    record('json', fields, ctx);
  }
}

describe('batch stream consumers', () => {
  const handled: HandledEvent[] = [];
  const broker = useBrokerApp({ instanceId: 'stream-batcher' }, [StreamBatchConsumers], {
    // A history there before the group is created (startId 0): batches fill to their size.
    beforeBoot: async ({ plain }) => {
      for (let n = 0; n < 25; n += 1) await plain.xadd('events', '*', 'n', String(n));
    },
  });

  beforeAll(() => {
    broker.app.get(BrokerEvents).on('handled', (e) => handled.push(e));
  });

  async function append(stream: string, entries: Record<string, string>[]): Promise<void> {
    for (const fields of entries) await broker.plain.xadd(stream, '*', ...Object.entries(fields).flat());
  }

  const idle = (stream: string) => waitForStreamGroupsIdle(broker.redis.url, [{ stream, group: stream === 'events' ? 'loader' : 'g' }], { timeoutMs: 10_000 });

  it('hands the entries over in full batches of size, in stream order, then the rest after maxWaitMs', async () => {
    await waitFor(() => (batches.get('events') ?? []).flat().length === 25, { description: '25 entries handled' });
    await idle('events');
    const expected = Array.from({ length: 25 }, (_, n) => String(n));
    expect(batches.get('events')).toEqual([expected.slice(0, 10), expected.slice(10, 20), expected.slice(20)]);
    const [first] = contexts;
    expect(first.size).toBe(10);
    expect([first.stream, first.group, first.consumer]).toEqual(['events', 'loader', 'stream-batcher']);
    expect(first.entries.map((e) => e.fields.n)).toEqual(expected.slice(0, 10));
    expect(handled.filter((e) => e.source === 'events/loader')).toHaveLength(25);
  });

  it('redelivers only the entries a BatchResult failed, and dead-letters them at maxDeliveries', async () => {
    await append('partial', ['a', 'b', 'c', 'd'].map((n) => ({ n, fail: n === 'b' ? 'yes' : 'no' })));
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('partial', 'g')) === 1, { description: 'b dead-lettered' });
    await idle('partial');
    const seen = deliveries.get('partial')!;
    for (const n of ['a', 'c', 'd']) expect(seen.get(n)).toEqual([1]);
    expect(seen.get('b')).toEqual([1, 2, 3]);
    const [letter] = await dead.list('partial', 'g');
    expect([letter.fields.n, letter.reason, letter.error]).toEqual(['b', 'max-deliveries', 'refused']);
  });

  it('fails every entry when the handler throws, each dead-lettered at maxDeliveries', async () => {
    await append('all-fail', [{ n: 'x' }, { n: 'y' }]);
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('all-fail', 'g')) === 2, { description: 'both dead-lettered' });
    for (const n of ['x', 'y']) expect(deliveries.get('all-fail')!.get(n)).toEqual([1, 2]);
    const letters = await dead.list('all-fail', 'g');
    expect(letters.every((l) => l.reason === 'max-deliveries' && l.error === 'sink down')).toBe(true);
  });

  it('dead-letters an entry with an unparsable JSON field on its own while the rest of its batch runs', async () => {
    await append('json', [{ n: '1', body: '{"ok":true}' }, { n: '2', body: '{broken' }, { n: '3', body: '[1]' }]);
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('json', 'g')) === 1, { description: 'the broken entry dead-lettered' });
    await idle('json');
    expect(batches.get('json')).toEqual([['1', '3']]);
    const [letter] = await dead.list('json', 'g');
    expect([letter.fields.n, letter.reason]).toEqual(['2', 'unparsable']);
  });
});
