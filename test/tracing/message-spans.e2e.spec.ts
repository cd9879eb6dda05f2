import { Injectable } from '@nestjs/common';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BrokerClient,
  OnChannel,
  QueueHandler,
  StreamConsumer,
  type ChannelMessageContext,
  type QueueMessageContext,
  type StreamMessageContext,
} from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { installTracing, spansNamed } from '../support/tracing.js';

// Registered before the app boots, as an app's tracing setup runs first.
const tracing = installTracing();
const seen = new Map<string, unknown[]>();
const note = (name: string, value: unknown): void => void seen.set(name, [...(seen.get(name) ?? []), value]);

@Injectable()
class TracedHandlers {
  @QueueHandler('flaky', { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  flaky(_payload: unknown, ctx: QueueMessageContext): void {
    // A span the handler makes is a child of its run's span.
    trace.getTracer('test').startSpan(`inner ${ctx.attempt}`).end();
    if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
  }

  @QueueHandler('doomed', { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  doomed(): void {
    throw new Error('never works');
  }

  @QueueHandler('slow', { maxAttempts: 1, timeoutMs: 100 })
  async slow(_payload: unknown, ctx: QueueMessageContext): Promise<void> {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  }

  @QueueHandler('headers')
  headers(_payload: unknown, ctx: QueueMessageContext): void {
    note('headers', ctx.headers);
  }

  @StreamConsumer({ stream: 'events', group: 'audit' })
  audit(_payload: unknown, ctx: StreamMessageContext): void {
    note('events', ctx.headers);
  }

  @OnChannel('news')
  news(payload: unknown, ctx: ChannelMessageContext): void {
    note('news', { payload, raw: ctx.raw });
  }
}

describe('OpenTelemetry spans of sends and runs', () => {
  const ctx = useBrokerApp({ connection: {} }, [TracedHandlers]);
  const client = (): BrokerClient => ctx.app.get(BrokerClient);
  const root = trace.getTracer('test');

  beforeEach(() => tracing.exporter.reset());
  afterAll(() => tracing.uninstall());

  /** Runs `fn` inside a root span named `test`, and returns that span's ids. */
  async function inRootSpan<T>(fn: () => Promise<T>): Promise<{ result: T; traceId: string; spanId: string }> {
    return root.startActiveSpan('test', async (span) => {
      const result = await fn();
      span.end();
      const { traceId, spanId } = span.spanContext();
      return { result, traceId, spanId };
    });
  }

  it('makes a PRODUCER send span per enqueue and a CONSUMER process span per attempt, children of it, failures recorded', async () => {
    const { result: id, traceId, spanId } = await inRootSpan(() => client().enqueue('flaky', { n: 1 }));
    await waitFor(() => spansNamed(tracing.exporter, 'process flaky').length === 3, { description: 'three runs of flaky' });

    const [send] = spansNamed(tracing.exporter, 'send flaky');
    expect(send).toMatchObject({
      kind: SpanKind.PRODUCER, traceId, parentSpanId: spanId,
      attributes: {
        'messaging.system': 'redis', 'messaging.system.name': 'redis', 'messaging.operation.type': 'send',
        'messaging.operation.name': 'send', 'messaging.destination.name': 'flaky', 'messaging.message.id': id,
      },
    });
    const runs = spansNamed(tracing.exporter, 'process flaky');
    expect(runs.map((run) => run.attributes['messaging.redis.message.delivery_attempt'])).toEqual([1, 2, 3]);
    for (const run of runs) {
      expect(run).toMatchObject({
        kind: SpanKind.CONSUMER, traceId, parentSpanId: send.spanId, links: [{ traceId, spanId: send.spanId }],
        attributes: { 'messaging.operation.type': 'process', 'messaging.destination.name': 'flaky', 'messaging.message.id': id },
      });
    }
    expect(runs.map((run) => run.attributes['messaging.redis.settlement'])).toEqual(['retry', 'retry', 'ack']);
    expect(runs.map((run) => run.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    expect(runs[0]).toMatchObject({ status: { message: 'boom 1' }, events: ['exception'], attributes: { 'error.type': 'Error', 'messaging.redis.retry.delay_ms': 20 } });
    expect(runs[2].events).toEqual([]);
    const inner = spansNamed(tracing.exporter, 'inner 2')[0];
    expect(inner).toMatchObject({ traceId, parentSpanId: runs[1].spanId });
  });

  it('shows the dead letter and its reason on the last run, and a timeout as a TimeoutError', async () => {
    await client().enqueue('doomed', {});
    await client().enqueue('slow', {});
    await waitFor(() => spansNamed(tracing.exporter, 'process doomed').length === 2 && spansNamed(tracing.exporter, 'process slow').length === 1, {
      description: 'the runs of doomed and slow',
    });
    const doomed = spansNamed(tracing.exporter, 'process doomed');
    expect(doomed[1]).toMatchObject({
      status: { code: SpanStatusCode.ERROR, message: 'never works' },
      attributes: { 'messaging.redis.settlement': 'dead_letter', 'messaging.redis.dead_letter.reason': 'max-attempts' },
    });
    const [slow] = spansNamed(tracing.exporter, 'process slow');
    expect(slow).toMatchObject({
      status: { code: SpanStatusCode.ERROR },
      attributes: { 'error.type': 'TimeoutError', 'messaging.redis.settlement': 'dead_letter', 'messaging.redis.dead_letter.reason': 'timeout' },
    });
  });

  it('starts a new trace for a message that carries no context', async () => {
    await ctx.plain.lpush('flaky', JSON.stringify({ plain: true }));
    await waitFor(() => spansNamed(tracing.exporter, 'process flaky').length === 3, { description: 'three runs of the plain message' });
    const runs = spansNamed(tracing.exporter, 'process flaky');
    expect(runs.every((run) => run.parentSpanId === undefined && run.links.length === 0)).toBe(true);
    expect(new Set(runs.map((run) => run.traceId)).size).toBe(3);
  });

  it('keeps a traceparent header of the caller: the send span links to it and the run continues it', async () => {
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await inRootSpan(() => client().enqueue('headers', {}, { headers: { traceparent: own, tenant: 'acme' } }));
    await waitFor(() => spansNamed(tracing.exporter, 'process headers').length === 1, { description: 'the run of headers' });
    expect(seen.get('headers')).toEqual([{ traceparent: own, tenant: 'acme' }]);
    const [send] = spansNamed(tracing.exporter, 'send headers');
    expect(send).toMatchObject({ kind: SpanKind.CLIENT, links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }] });
    const [run] = spansNamed(tracing.exporter, 'process headers');
    expect(run).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'b7ad6b7169203331' });
  });

  it('still refuses headers that are not an object of strings, naming the option', async () => {
    await expect(client().enqueue('headers', {}, { headers: 'tenant=acme' as unknown as Record<string, string> })).rejects.toThrow(/enqueue\.headers/);
    await expect(client().append('events', { a: '1' }, { headers: ['x'] as unknown as Record<string, string> })).rejects.toThrow(/append\.headers/);
    await expect(client().publish('news', 'x', { traceContext: 'yes' as unknown as boolean })).rejects.toThrow(/publish\.traceContext/);
  });

  it('makes one send span for enqueueMany, its context in every message', async () => {
    const { result: ids } = await inRootSpan(() => client().enqueueMany('headers', [{ a: 1 }, { a: 2 }]));
    await waitFor(() => spansNamed(tracing.exporter, 'process headers').length === 2, { description: 'both runs' });
    const [send] = spansNamed(tracing.exporter, 'send headers');
    expect(send.attributes['messaging.batch.message_count']).toBe(2);
    const runs = spansNamed(tracing.exporter, 'process headers');
    expect(runs.map((run) => run.attributes['messaging.message.id']).sort()).toEqual([...ids].sort());
    expect(runs.every((run) => run.parentSpanId === send.spanId)).toBe(true);
  });

  it('propagates through a stream entry in a reserved header field', async () => {
    seen.delete('events');
    const { result: entryId, traceId } = await inRootSpan(() => client().append('events', { kind: 'login' }));
    await waitFor(() => spansNamed(tracing.exporter, 'process events').length === 1, { description: 'the run of events' });
    const [send] = spansNamed(tracing.exporter, 'send events');
    expect(send).toMatchObject({ kind: SpanKind.PRODUCER, traceId, attributes: { 'messaging.message.id': entryId } });
    const [run] = spansNamed(tracing.exporter, 'process events');
    expect(run).toMatchObject({
      kind: SpanKind.CONSUMER, traceId, parentSpanId: send.spanId,
      attributes: { 'messaging.consumer.group.name': 'audit', 'messaging.message.id': entryId, 'messaging.redis.message.delivery_attempt': 1, 'messaging.redis.settlement': 'ack' },
    });
    const [[, fields]] = (await ctx.plain.xrange('events', '-', '+')) as [string, string[]][];
    expect(fields).toContain('__nrb.h.traceparent');
    expect((seen.get('events') as Record<string, string>[])[0].traceparent).toMatch(new RegExp(`^00-${traceId}-${send.spanId}-01$`));
  });

  it('links a channel listener\'s span to the publisher\'s when the message carries its context (traceContext), in a trace of its own', async () => {
    await waitFor(async () => (await client().publish('news', 'warm-up')) > 0, { description: 'the listener subscribed' });
    await waitFor(() => spansNamed(tracing.exporter, 'process news').length > 0, { description: 'the warm-up run' });
    tracing.exporter.reset();
    seen.delete('news');

    const { traceId } = await inRootSpan(() => client().publish('news', { headline: 'hi' }, { traceContext: true }));
    await client().publish('news', 'plain text');
    await waitFor(() => spansNamed(tracing.exporter, 'process news').length === 2, { description: 'both runs of news' });
    const [sent] = spansNamed(tracing.exporter, 'send news');
    const [linked, plain] = spansNamed(tracing.exporter, 'process news');
    expect(linked).toMatchObject({ kind: SpanKind.CONSUMER, parentSpanId: undefined, links: [{ traceId, spanId: sent.spanId }] });
    expect(linked.traceId).not.toBe(traceId);
    expect(plain.links).toEqual([]);
    const [first] = seen.get('news') as { payload: Record<string, string> }[];
    expect(first.payload).toMatchObject({ headline: 'hi', traceparent: `00-${traceId}-${sent.spanId}-01` });
  });
});
