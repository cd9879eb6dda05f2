import { Body, Controller, Injectable, Module, Post, type NestMiddleware } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, MiddlewareConsumer, NestModule } from '@nestjs/common';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { BrokerClient, RedisBrokerModule } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';
import { spawnFixture, type FixtureProcess } from '../support/processes.js';
import { installTracing, spansNamed, type SpanRecord } from '../support/tracing.js';

const tracing = installTracing();

/** What an HTTP instrumentation does: a SERVER span around each request, active while the route runs. */
@Injectable()
class ServerSpanMiddleware implements NestMiddleware {
  use(req: { method: string; originalUrl: string }, res: { on(event: 'finish', fn: () => void): void }, next: () => void): void {
    const span = trace.getTracer('http').startSpan(`${req.method} ${req.originalUrl}`, { kind: SpanKind.SERVER });
    res.on('finish', () => span.end());
    context.with(trace.setSpan(context.active(), span), next);
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly broker: BrokerClient) {}

  @Post()
  async create(@Body() body: { order: string }): Promise<{ id: string | null }> {
    return { id: await this.broker.enqueue('orders', body) };
  }
}

describe('one trace from an HTTP request to a handler in another process', () => {
  const file = useRedis();
  let api: INestApplication;
  let worker: FixtureProcess;

  beforeAll(async () => {
    @Module({ imports: [RedisBrokerModule.forRoot({ connection: { url: file.redis.url } })], controllers: [OrdersController] })
    class ApiModule implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer.apply(ServerSpanMiddleware).forRoutes('*');
      }
    }
    api = await NestFactory.create(ApiModule, { logger: ['error', 'warn'] });
    await api.listen(0, '127.0.0.1');
    worker = spawnFixture('tracing-worker', { REDIS_URL: file.redis.url });
    await worker.ready;
  });

  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await api?.close();
    tracing.uninstall();
  });

  /**
   * The spans the worker printed, from whole lines only: its output arrives
   * in chunks, and a line still being written would not parse.
   */
  function workerSpans(): SpanRecord[] {
    const lines = worker.output().split('\n').slice(0, -1);
    return lines.filter((line) => line.startsWith('span ')).map((line) => JSON.parse(line.slice(5)) as SpanRecord);
  }

  it('carries the request\'s trace through enqueue into the worker\'s handler and its own spans', async () => {
    const response = await fetch(`${await api.getUrl()}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ order: 'A-1' }),
    });
    const { id } = (await response.json()) as { id: string };
    // The handler's span ends inside the run, the run's own span after it: each is printed when it ends.
    const printed = (name: string): boolean => workerSpans().some((span) => span.name === name);
    await waitFor(() => printed('charge A-1') && printed('process orders'), { timeoutMs: 30_000, description: 'the worker\'s spans' });
    await waitFor(() => spansNamed(tracing.exporter, 'POST /orders').length === 1, { description: 'the server span' });

    const [server] = spansNamed(tracing.exporter, 'POST /orders');
    const [send] = spansNamed(tracing.exporter, 'send orders');
    expect(send).toMatchObject({ kind: SpanKind.PRODUCER, traceId: server.traceId, parentSpanId: server.spanId, attributes: { 'messaging.message.id': id } });

    const spans = workerSpans();
    const run = spans.find((span) => span.name === 'process orders')!;
    expect(run).toMatchObject({
      kind: SpanKind.CONSUMER, traceId: server.traceId, parentSpanId: send.spanId,
      attributes: { 'messaging.message.id': id, 'messaging.destination.name': 'orders', 'messaging.redis.message.delivery_attempt': 1 },
    });
    const charge = spans.find((span) => span.name === 'charge A-1')!;
    expect(charge).toMatchObject({ traceId: server.traceId, parentSpanId: run.spanId });
  });
});
