import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  BrokerClient,
  InvalidBrokerOptionsError,
  NonRetryableError,
  QueueDeadLetterService,
  QueueHandler,
  type QueueMessageContext,
} from 'nest-redis-broker';
import { BrokerMetrics, RedisBrokerMetricsModule } from 'nest-redis-broker/observability';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { metricSample } from '../support/timeline-apps.js';

interface Seen {
  payload: unknown;
  id: string;
  attempt: number;
  enqueuedAt: number | undefined;
  headers: Readonly<Record<string, string>>;
  json: Record<string, unknown>;
}

const seen = new Map<string, Seen[]>();
/** Ids whose first attempt fails. */
const failOnce = new Set<string>();

function record(queue: string, payload: unknown, ctx: QueueMessageContext): void {
  const { id, attempt, enqueuedAt, headers } = ctx;
  seen.set(queue, [...(seen.get(queue) ?? []), { payload, id, attempt, enqueuedAt, headers, json: JSON.parse(JSON.stringify(ctx)) as Record<string, unknown> }]);
}

const runs = (queue: string): Seen[] => seen.get(queue) ?? [];

@Injectable()
class IdentityHandlers {
  @QueueHandler('ids', { blockTimeoutMs: 100 })
  ids(payload: unknown, ctx: QueueMessageContext): void {
    record('ids', payload, ctx);
  }

  @QueueHandler('twins', { blockTimeoutMs: 100, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 300, jitter: false } })
  twins(payload: unknown, ctx: QueueMessageContext): void {
    record('twins', payload, ctx);
    if (ctx.attempt === 1 && failOnce.has(ctx.id)) throw new Error('first attempt fails');
  }

  @QueueHandler('doomed', { blockTimeoutMs: 100 })
  doomed(payload: unknown, ctx: QueueMessageContext): void {
    record('doomed', payload, ctx);
    if (runs('doomed').length === 1) throw new NonRetryableError('refused once');
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('message identity and metadata on list queues', () => {
  const broker = useBrokerApp({}, [IdentityHandlers], {
    imports: [RedisBrokerMetricsModule.forRoot({ defaultMetrics: false })],
  });

  it('resolves enqueue to a unique id that the handler sees with the enqueue time and the headers', async () => {
    const client = broker.app.get(BrokerClient);
    const before = Date.now();
    const first = await client.enqueue('ids', { order: 1 }, { headers: { tenant: 'acme', traceparent: '00-abc-01' } });
    const second = await client.enqueue('ids', { order: 2 }, { priority: 'high' });
    const after = Date.now();
    expect(first).toEqual(expect.any(String));
    expect(second).toEqual(expect.any(String));
    expect(first).not.toBe(second);
    await waitFor(() => runs('ids').length === 2, { description: 'both messages to run' });
    const byOrder = new Map(runs('ids').map((run) => [(run.payload as { order: number }).order, run]));
    expect(byOrder.get(1)).toMatchObject({ payload: { order: 1 }, id: first, headers: { tenant: 'acme', traceparent: '00-abc-01' } });
    expect(byOrder.get(2)).toMatchObject({ payload: { order: 2 }, id: second, headers: {} });
    for (const run of runs('ids')) {
      expect(run.enqueuedAt).toBeGreaterThanOrEqual(before);
      expect(run.enqueuedAt).toBeLessThanOrEqual(after);
    }
    expect(byOrder.get(1)!.json).toMatchObject({ id: first, enqueuedAt: byOrder.get(1)!.enqueuedAt, headers: { tenant: 'acme', traceparent: '00-abc-01' } });
  });

  it('resolves enqueueMany to the ids in order, each the id its handler sees', async () => {
    seen.delete('ids');
    const client = broker.app.get(BrokerClient);
    const ids = await client.enqueueMany('ids', ['a', 'b', 'c']);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    await waitFor(() => runs('ids').length === 3, { description: 'the batch to run' });
    expect(runs('ids').map((run) => [run.payload, run.id])).toEqual([['a', ids[0]], ['b', ids[1]], ['c', ids[2]]]);
  });

  it('resolves a deduplicated enqueue to null', async () => {
    const client = broker.app.get(BrokerClient);
    expect(await client.enqueue('dedup-only', 1, { dedupKey: 'k', delayMs: 60_000 })).toEqual(expect.any(String));
    expect(await client.enqueue('dedup-only', 1, { dedupKey: 'k' })).toBeNull();
  });

  it('keeps the retry state of two equal payloads apart: one failing does not count against the other', async () => {
    const client = broker.app.get(BrokerClient);
    const failing = (await client.enqueue('twins', { same: true }))!;
    failOnce.add(failing);
    // Wait until the first has failed (its retry is 300 ms away), then send its twin.
    await waitFor(() => runs('twins').length === 1, { description: 'the first twin to fail once' });
    const twin = (await client.enqueue('twins', { same: true }))!;
    await waitFor(() => runs('twins').length === 3, { description: 'the twin and the retry to run' });
    const attemptsOf = (id: string) => runs('twins').filter((run) => run.id === id).map((run) => run.attempt);
    expect(attemptsOf(failing)).toEqual([1, 2]);
    expect(attemptsOf(twin)).toEqual([1]);
  });

  it('consumes a plain JSON string, and data that contains the marker key, as a plain payload with a derived id', async () => {
    seen.delete('ids');
    const plain = ['{"__nrb":"x","a":1}', '{"__nrb":1,"note":"hi"}', '{"__nrb":1,"id":"a","t":1,"p":2,"extra":true}', '{"userId":"u1"}'];
    for (const text of plain) await broker.plain.lpush('ids', text);
    await waitFor(() => runs('ids').length === plain.length, { description: 'the plain messages to run' });
    expect(runs('ids').map(({ payload, id, enqueuedAt, headers }) => ({ payload, id, enqueuedAt, headers }))).toEqual(
      plain.map((text) => ({ payload: JSON.parse(text) as unknown, id: sha1(text), enqueuedAt: undefined, headers: {} })),
    );
  });

  it('consumes an envelope written by another client', async () => {
    seen.delete('ids');
    await broker.plain.lpush('ids', '{"__nrb":1,"id":"py-1","t":1700000000000,"h":{"lang":"python"},"p":{"order":9}}');
    await waitFor(() => runs('ids').length === 1, { description: 'the message to run' });
    expect(runs('ids')[0]).toMatchObject({ payload: { order: 9 }, id: 'py-1', enqueuedAt: 1700000000000, headers: { lang: 'python' } });
  });

  it('dead-letters an envelope of a newer version without running it, keeping its bytes', async () => {
    seen.delete('ids');
    const future = '{"__nrb":2,"id":"from-the-future","t":1,"p":{"order":1},"x":{}}';
    await broker.plain.lpush('ids', future);
    const dead = broker.app.get(QueueDeadLetterService);
    await waitFor(async () => (await dead.count('ids')) === 1, { description: 'the message to be dead-lettered' });
    const [letter] = await dead.list('ids');
    expect(letter).toMatchObject({ reason: 'unsupported-envelope', message: future });
    expect(letter.error).toContain('envelope version 2');
    expect(runs('ids')).toEqual([]);
  });

  it('keeps the message id in its dead-letter record, and a requeue brings back the same message', async () => {
    const client = broker.app.get(BrokerClient);
    const id = (await client.enqueue('doomed', { n: 1 }, { headers: { k: 'v' } }))!;
    const dead = broker.app.get(QueueDeadLetterService);
    await waitFor(async () => (await dead.count('doomed')) === 1, { description: 'the message to be dead-lettered' });
    const [letter] = await dead.list('doomed');
    expect(letter).toMatchObject({ messageId: id, reason: 'non-retryable' });
    expect(await dead.requeue('doomed', letter.id)).toBe(true);
    await waitFor(() => runs('doomed').length === 2, { description: 'the requeued message to run' });
    expect(runs('doomed')[1]).toMatchObject({ id, payload: { n: 1 }, headers: { k: 'v' }, attempt: 1 });
  });

  it('refuses headers that are not strings, naming the option, and stores nothing', async () => {
    const client = broker.app.get(BrokerClient);
    const headers = { retries: 3 } as unknown as Record<string, string>;
    await expect(client.enqueue('refused', 1, { headers })).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(client.enqueue('refused', 1, { headers })).rejects.toThrow(/enqueue\.headers/);
    expect(await broker.plain.exists('refused')).toBe(0);
  });

  it('observes the queue wait of enveloped messages in the metrics, and not of plain ones', async () => {
    const client = broker.app.get(BrokerClient);
    const metrics = broker.app.get(BrokerMetrics);
    const labels = { kind: 'queue', source: 'ids' };
    const count = async () => metricSample(await metrics.metricsText(), 'nrb_queue_wait_seconds_count', labels) ?? 0;
    const counted = await count();
    seen.delete('ids');
    await broker.plain.lpush('ids', '{"plain":true}');
    await client.enqueue('ids', { enveloped: true });
    await waitFor(() => runs('ids').length === 2, { description: 'both messages to run' });
    await waitFor(async () => (await count()) >= counted + 1, { description: 'the wait to be observed' });
    expect(await count()).toBe(counted + 1);
    const text = await metrics.metricsText();
    expect(text).toContain('# TYPE nrb_queue_wait_seconds histogram');
    expect(metricSample(text, 'nrb_queue_wait_seconds_bucket', { ...labels, le: '+Inf' })).toBe(counted + 1);
  });
});
