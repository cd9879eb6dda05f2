import { Injectable } from '@nestjs/common';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BatchResult, BrokerClient, QueueHandler, StreamConsumer, type QueueBatchContext, type StreamBatchContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { installTracing, spansNamed } from '../support/tracing.js';

// Registered before the app boots, as an app's tracing setup runs first.
const tracing = installTracing();
const runs = { quiet: 0 };

/** Long enough for a batch to fill up before it runs: each test sends exactly one full batch. */
const FILL = { maxWaitMs: 10_000 };

@Injectable()
class BatchHandlers {
  @QueueHandler('orders', { batch: { size: 4, ...FILL } })
  orders(_items: unknown[], ctx: QueueBatchContext): void {
    // A span the handler makes is a child of its batch's span.
    trace.getTracer('test').startSpan(`inner ${ctx.messages.length}`).end();
  }

  @StreamConsumer({ stream: 'ledger', group: 'books', batch: { size: 3, ...FILL } })
  ledger(_items: unknown[], _ctx: StreamBatchContext): void {}

  @QueueHandler('broken', { batch: { size: 2, ...FILL }, maxAttempts: 1 })
  async broken(): Promise<void> {
    await Promise.resolve();
    throw new Error('the warehouse is down');
  }

  @QueueHandler('picky', { batch: { size: 3, maxWaitMs: 100 }, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  picky(items: { n: number }[], ctx: QueueBatchContext): BatchResult {
    const result = new BatchResult();
    items.forEach((item, i) => item.n === 2 && ctx.messages[i].attempt === 1 && result.fail(i, new RangeError(`item ${item.n} refused`)));
    return result;
  }

  @QueueHandler('quiet', { batch: { size: 2, ...FILL } })
  quiet(): void {
    runs.quiet += 1;
  }
}

describe('OpenTelemetry spans of batch handler runs', () => {
  const ctx = useBrokerApp({ connection: {} }, [BatchHandlers]);
  const client = (): BrokerClient => ctx.app.get(BrokerClient);
  const root = trace.getTracer('test');

  beforeEach(() => tracing.exporter.reset());
  afterAll(() => tracing.uninstall());

  /** Runs `send` inside a root span of its own, and returns that trace's id. */
  function inOwnTrace(send: () => Promise<unknown>): Promise<string> {
    return root.startActiveSpan('request', async (span) => {
      await send();
      span.end();
      return span.spanContext().traceId;
    });
  }

  it('makes one CONSUMER span for a queue batch, with its message count and a link to each traced message, and no parent', async () => {
    const traces = [];
    const ids: unknown[] = [];
    for (let n = 1; n <= 3; n += 1) traces.push(await inOwnTrace(async () => ids.push(await client().enqueue('orders', { n }))));
    // A message pushed by another client carries no context: it counts, but has no link.
    await ctx.plain.lpush('orders', JSON.stringify({ n: 4 }));
    await waitFor(() => spansNamed(tracing.exporter, 'process orders').length > 0, { description: 'the batch span' });

    const spans = spansNamed(tracing.exporter, 'process orders');
    expect(spans).toHaveLength(1);
    const [batch] = spans;
    const sends = spansNamed(tracing.exporter, 'send orders');
    expect(batch).toMatchObject({
      kind: SpanKind.CONSUMER,
      parentSpanId: undefined,
      status: { code: SpanStatusCode.UNSET },
      attributes: {
        'messaging.system': 'redis', 'messaging.system.name': 'redis', 'messaging.operation.type': 'process',
        'messaging.operation.name': 'process', 'messaging.destination.name': 'orders', 'messaging.batch.message_count': 4,
        'messaging.redis.settlement': 'ack', 'messaging.redis.batch.failed_count': 0,
      },
    });
    expect(batch.attributes).not.toHaveProperty('messaging.message.id');
    expect(new Set(batch.links.map((link) => link.traceId))).toEqual(new Set(traces));
    expect(batch.links.map((link) => link.spanId).sort()).toEqual(sends.map((send) => send.spanId).sort());
    const raw = tracing.exporter.getFinishedSpans().find((span) => span.name === 'process orders')!;
    expect(raw.links.map((link) => link.attributes?.['messaging.message.id']).sort()).toEqual([...ids].sort());
    // Its own trace: none of the producers' is its parent.
    expect(traces).not.toContain(batch.traceId);
    const [inner] = spansNamed(tracing.exporter, 'inner 4');
    expect(inner).toMatchObject({ traceId: batch.traceId, parentSpanId: batch.spanId });
  });

  it('makes one CONSUMER span for a stream batch, with the group and a link to each traced entry', async () => {
    const traces = [];
    for (let n = 1; n <= 3; n += 1) traces.push(await inOwnTrace(() => client().append('ledger', { n: String(n) })));
    await waitFor(() => spansNamed(tracing.exporter, 'process ledger').length > 0, { description: 'the batch span' });

    const spans = spansNamed(tracing.exporter, 'process ledger');
    expect(spans).toHaveLength(1);
    const [batch] = spans;
    expect(batch).toMatchObject({
      kind: SpanKind.CONSUMER,
      parentSpanId: undefined,
      attributes: {
        'messaging.system': 'redis', 'messaging.operation.type': 'process', 'messaging.destination.name': 'ledger',
        'messaging.consumer.group.name': 'books', 'messaging.batch.message_count': 3, 'messaging.redis.settlement': 'ack',
      },
    });
    expect(batch.links.map((link) => link.traceId).sort()).toEqual([...traces].sort());
    expect(batch.links.map((link) => link.spanId).sort()).toEqual(spansNamed(tracing.exporter, 'send ledger').map((send) => send.spanId).sort());
  });

  it('records the exception and status ERROR when a batch handler throws, and each message dead-lettered', async () => {
    await client().enqueueMany('broken', [{ n: 1 }, { n: 2 }]);
    await waitFor(() => spansNamed(tracing.exporter, 'process broken').length > 0, { description: 'the batch span' });

    const [batch] = spansNamed(tracing.exporter, 'process broken');
    expect(batch).toMatchObject({
      status: { code: SpanStatusCode.ERROR, message: 'the warehouse is down' },
      attributes: {
        'error.type': 'Error', 'messaging.batch.message_count': 2, 'messaging.redis.batch.failed_count': 2,
        'messaging.redis.settlement': 'dead_letter',
      },
    });
    expect(batch.events).toEqual(['exception', 'messaging.redis.batch.message_failed', 'messaging.redis.batch.message_failed']);
    const failed = tracing.exporter.getFinishedSpans().find((span) => span.name === 'process broken')!.events.slice(1);
    expect(failed.map((event) => event.attributes?.['messaging.redis.dead_letter.reason'])).toEqual(['max-attempts', 'max-attempts']);
  });

  it('records the failed messages of a BatchResult without failing the span, and each one\'s settlement', async () => {
    const ids = await client().enqueueMany('picky', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await waitFor(() => spansNamed(tracing.exporter, 'process picky').length === 2, { description: 'the batch and the retried message' });

    const spans = tracing.exporter.getFinishedSpans().filter((span) => span.name === 'process picky');
    const [first, retried] = spans;
    expect(first.attributes).toMatchObject({
      'messaging.batch.message_count': 3, 'messaging.redis.batch.failed_count': 1, 'messaging.redis.settlement': 'mixed',
    });
    expect(first.status.code).toBe(SpanStatusCode.UNSET);
    expect(first.events.map((event) => event.name)).toEqual(['messaging.redis.batch.message_failed']);
    expect(first.events[0].attributes).toMatchObject({
      'messaging.redis.batch.index': 1, 'messaging.message.id': ids[1], 'error.type': 'RangeError', 'exception.message': 'item 2 refused',
      'messaging.redis.settlement': 'retry', 'messaging.redis.retry.delay_ms': 20,
    });
    expect(retried.attributes).toMatchObject({ 'messaging.batch.message_count': 1, 'messaging.redis.batch.failed_count': 0, 'messaging.redis.settlement': 'ack' });
  });

  it('makes no span once the app unregistered its provider, though its handler was traced before', async () => {
    await client().enqueueMany('quiet', [{ n: 1 }, { n: 2 }]);
    await waitFor(() => spansNamed(tracing.exporter, 'process quiet').length === 1, { description: 'the traced batch' });
    tracing.uninstall();
    tracing.exporter.reset();
    await client().enqueueMany('quiet', [{ n: 3 }, { n: 4 }]);
    await waitFor(() => runs.quiet === 2, { description: 'the second batch ran' });
    expect(tracing.exporter.getFinishedSpans()).toEqual([]);
  });
});
