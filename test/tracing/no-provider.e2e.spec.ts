import { Injectable } from '@nestjs/common';
import { BrokerClient, OnChannel, QueueHandler, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { spawnFixture } from '../support/processes.js';
import { installTracing } from '../support/tracing.js';

const runs: QueueMessageContext[] = [];
const published: unknown[] = [];

@Injectable()
class Handlers {
  @QueueHandler('work')
  work(_payload: unknown, ctx: QueueMessageContext): void {
    runs.push(ctx);
  }

  @OnChannel('news')
  news(payload: unknown): void {
    published.push(payload);
  }
}

describe('with no tracer provider registered', () => {
  const ctx = useBrokerApp({ connection: {} }, [Handlers]);
  const client = (): BrokerClient => ctx.app.get(BrokerClient);

  /** Sends one message of each kind and checks that none carries a trace context. */
  async function sendsCarryNoContext(): Promise<void> {
    await client().enqueue('parked', { a: 1 });
    await client().enqueueMany('parked', [{ a: 2 }]);
    await client().append('events', { a: '1' });
    for (const raw of await ctx.plain.lrange('parked', 0, -1)) expect(JSON.parse(raw)).not.toHaveProperty('h');
    for (const [, fields] of (await ctx.plain.xrange('events', '-', '+')) as [string, string[]][]) expect(fields).toEqual(['a', '1']);

    published.length = 0;
    await waitFor(async () => (await client().publish('news', { headline: 'hi' }, { traceContext: true })) > 0, { description: 'the listener subscribed' });
    await waitFor(() => published.length > 0, { description: 'a published message' });
    expect(published[0]).toEqual({ headline: 'hi' });

    const before = runs.length;
    await client().enqueue('work', {});
    await waitFor(() => runs.length === before + 1, { description: 'the handler ran' });
    expect(runs[before].headers).toEqual({});
  }

  it('writes no trace context into messages when no provider was ever registered', async () => {
    await sendsCarryNoContext();
  });

  it('writes none and emits nothing once the app unregistered its provider (trace.disable)', async () => {
    await ctx.plain.flushall();
    const tracing = installTracing();
    tracing.uninstall();
    await sendsCarryNoContext();
    expect(tracing.exporter.getFinishedSpans()).toEqual([]);
  });

  // Its first require takes about 30 ms: at the first message, a fresh worker's first handler (or
  // a producer's first send) stalled that long (the paced latency bench's worst samples).
  it.each([['a consumer', '0'], ['a producer-only', '1']])('%s app loads the api at bootstrap, not at its first message', async (_kind, producerOnly) => {
    const worker = spawnFixture('otel-preload-worker', { REDIS_URL: ctx.redis.url, PRODUCER_ONLY: producerOnly }, 'done');
    await worker.ready;
    expect(worker.output()).toContain('api loaded before boot: false');
    expect(worker.output()).toContain('api loaded after boot: true');
    expect(await worker.exited).toBe(0);
  });

  it('loads and runs in a process where @opentelemetry/api cannot be resolved', async () => {
    const worker = spawnFixture('no-otel-worker', { REDIS_URL: ctx.redis.url, NODE_OPTIONS: '--import ./test/fixtures/hide-otel.mjs' }, 'handled');
    await worker.ready;
    expect(worker.output()).toContain('@opentelemetry/api is not resolvable');
    expect(await worker.exited).toBe(0);
  });
});
