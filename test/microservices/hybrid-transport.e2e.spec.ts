import {
  Body, Catch, ParseIntPipe, Controller, Get, HttpCode, Inject, Injectable, Module, Post, UseFilters, UseGuards, UseInterceptors,
  type CallHandler, type CanActivate, type ExecutionContext, type INestApplication, type NestInterceptor, type RpcExceptionFilter,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy, ClientsModule, Transport, Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { HealthCheck, HealthCheckService, MicroserviceHealthIndicator } from '@nestjs/terminus';
import {
  BrokerClient, BrokerCtx, BrokerPayload, QueueDeadLetterService, QueueHandler, QueueMessageContext, RedisBrokerModule, RequestFailedError,
  RequestTimeoutError,
} from 'nest-redis-broker';
import { RedisBrokerClientProxy, RedisBrokerContext, RedisBrokerServer, type EventRouting } from 'nest-redis-broker/microservices';
import { BrokerHealthIndicator, RedisBrokerHealthModule } from 'nest-redis-broker/observability';
import { waitFor } from 'nest-redis-broker/testing';
import { firstValueFrom, throwError, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const ROUTING: EventRouting = { events: 'queue', patterns: { 'audit.logged': 'stream' } };
const ORDERS = 'ORDERS_CLIENT';

interface Seen {
  pattern: string;
  data: unknown;
  type: string;
  isBrokerContext: boolean;
  id: string;
  attempt: number;
  queue: string | undefined;
  stream: string | undefined;
  messagePattern: string;
}
const seen: Seen[] = [];
const priceRuns: string[] = [];
let flakyFailures = 0;

/** Records what Nest's execution context says about each message (`getType()` must be `rpc`). */
@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc = context.switchToRpc();
    const ctx = rpc.getContext<unknown>();
    const message = ctx instanceof RedisBrokerContext ? ctx : undefined;
    seen.push({
      pattern: message?.getPattern() ?? '?',
      data: rpc.getData(),
      type: context.getType(),
      isBrokerContext: message !== undefined,
      id: message?.id ?? '',
      attempt: message?.attempt ?? 0,
      queue: message?.queue,
      stream: message?.stream,
      messagePattern: message?.getMessage().constructor.name ?? '',
    });
    return next.handle();
  }
}

/** Lets a request through only with header `role: admin`. */
@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext<RedisBrokerContext>().headers.role === 'admin';
  }
}

/** Turns an RpcException into the caller-facing shape of this service. */
@Catch(RpcException)
class PriceErrorFilter implements RpcExceptionFilter<RpcException> {
  catch(exception: RpcException): Observable<never> {
    return throwError(() => ({ filtered: true, error: exception.getError() }));
  }
}

/** A plain library handler beside the transport's: the aliases keep both decorator families apart. */
@Injectable()
class LegacyJobs {
  readonly seen: { n: number; queue: string }[] = [];

  @QueueHandler('legacy.jobs', { blockTimeoutMs: 200 })
  run(@BrokerPayload('n') n: number, @BrokerCtx() ctx: QueueMessageContext): void {
    this.seen.push({ n, queue: ctx.queue });
  }
}

@Controller()
@UseInterceptors(RecordingInterceptor)
class OrdersController {
  readonly orders: { id: number; headers: Readonly<Record<string, string>>; ctxId: string }[] = [];
  readonly audits: unknown[] = [];

  constructor(
    @Inject(ORDERS) private readonly client: ClientProxy,
    private readonly health: HealthCheckService,
    private readonly broker: BrokerHealthIndicator,
  ) {}

  @Post('orders')
  @HttpCode(202)
  async create(@Body() order: { id: number }): Promise<{ messageId: string }> {
    const messageId = await firstValueFrom(this.client.emit<string>('orders.created', order));
    return { messageId };
  }

  @Get('health')
  @HealthCheck()
  check(): Promise<unknown> {
    return this.health.check([() => this.broker.isReady()]);
  }

  @EventPattern<string>('orders.created')
  onOrder(@Payload('id') id: number, @Ctx() ctx: RedisBrokerContext): void {
    this.orders.push({ id, headers: ctx.headers, ctxId: ctx.id });
  }

  @EventPattern<string>('orders.flaky')
  onFlaky(): void {
    if (flakyFailures < 2) {
      flakyFailures += 1;
      throw new Error(`flaky failure ${flakyFailures}`);
    }
  }

  @EventPattern<string>('audit.logged')
  onAudit(@Payload() entry: unknown): void {
    this.audits.push(entry);
  }

  @MessagePattern('price.get')
  price(@Payload('sku') sku: string, @Ctx() ctx: RedisBrokerContext): { sku: string; cents: number; attempt: number } {
    priceRuns.push(sku);
    if (sku === 'missing') throw new RpcException(`no price for ${sku}`);
    if (sku === 'coded') throw new RpcException({ code: 'E_SKU', message: 'bad sku' });
    return { sku, cents: sku.length * 100, attempt: ctx.attempt };
  }

  @MessagePattern('price.double')
  double(@Payload('n', ParseIntPipe) n: number): number {
    return n * 2;
  }

  @MessagePattern('price.secret')
  @UseGuards(AdminGuard)
  @UseFilters(PriceErrorFilter)
  secret(@Payload('sku') sku: string): string {
    if (sku === 'none') throw new RpcException('no secret price');
    return `secret ${sku}`;
  }
}

describe('the microservices transport in a hybrid app (HTTP + RedisBrokerServer)', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });
  let app: INestApplication;
  let baseUrl: string;
  let controller: OrdersController;
  let server: RedisBrokerServer;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    const url = ctx.redis.url;
    @Module({
      imports: [
        RedisBrokerModule.forRoot({ connection: { url } }),
        RedisBrokerHealthModule,
        ClientsModule.register([{ name: ORDERS, customClass: RedisBrokerClientProxy, options: { connection: { url }, ...ROUTING } }]),
      ],
      controllers: [OrdersController],
      providers: [RecordingInterceptor, LegacyJobs],
    })
    class HybridModule {}
    app = await NestFactory.create(HybridModule, { logger });
    server = new RedisBrokerServer({
      connection: { url },
      ...ROUTING,
      group: 'orders-service',
      queueDefaults: { blockTimeoutMs: 200, backoff: { type: 'fixed', delayMs: 10 } },
      streamDefaults: { blockTimeoutMs: 200 },
    });
    app.connectMicroservice({ strategy: server });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
    controller = app.get(OrdersController);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('delivers an event emitted by an HTTP request to its @EventPattern handler, with @Payload, @Ctx and an rpc execution context', async () => {
    const response = await fetch(`${baseUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 7 }) });
    expect(response.status).toBe(202);
    const { messageId } = (await response.json()) as { messageId: string };
    await waitFor(() => controller.orders.length === 1, { description: 'the order event to be handled' });
    expect(controller.orders).toEqual([{ id: 7, headers: {}, ctxId: messageId }]);
    expect(seen.find((s) => s.pattern === 'orders.created')).toEqual({
      pattern: 'orders.created', data: { id: 7 }, type: 'rpc', isBrokerContext: true, id: messageId, attempt: 1,
      queue: 'orders.created', stream: undefined, messagePattern: 'QueueMessageContext',
    });
    // A reliable queue: the message is gone once handled, nothing is left in flight.
    await waitFor(async () => (await ctx.plain.llen('orders.created')) === 0, { description: 'the queue to be empty' });
  });

  it('answers ClientProxy.send() and a plain BrokerClient.request() from the same @MessagePattern handler', async () => {
    const proxy = app.get<ClientProxy>(ORDERS);
    const viaProxy = await firstValueFrom(proxy.send<{ sku: string; cents: number }>('price.get', { sku: 'abc' }));
    const viaBroker = await app.get(BrokerClient).request<{ sku: string; cents: number }>('price.get', { sku: 'abcd' }, { timeoutMs: 30_000 });
    expect(viaProxy).toEqual({ sku: 'abc', cents: 300, attempt: 1 });
    expect(viaBroker).toEqual({ sku: 'abcd', cents: 400, attempt: 1 });
  });

  it('errors the send() Observable with the RpcException\'s error, at once and without a retry', async () => {
    const proxy = app.get<ClientProxy>(ORDERS);
    const runsBefore = priceRuns.filter((s) => s === 'missing').length;
    await expect(firstValueFrom(proxy.send('price.get', { sku: 'missing' }))).rejects.toEqual({ status: 'error', message: 'no price for missing' });
    await expect(firstValueFrom(proxy.send('price.get', { sku: 'coded' }))).rejects.toEqual({ code: 'E_SKU', message: 'bad sku' });
    expect(priceRuns.filter((s) => s === 'missing').length).toBe(runsBefore + 1);
    // A plain request sees the same failure as a RequestFailedError.
    const failure = await app.get(BrokerClient).request('price.get', { sku: 'missing' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestFailedError);
    expect((failure as RequestFailedError).reason).toBe('non-retryable');
  });

  it('runs pipes on @Payload() of a @MessagePattern handler', async () => {
    const proxy = app.get<ClientProxy>(ORDERS);
    expect(await firstValueFrom(proxy.send('price.double', { n: '21' }))).toBe(42);
  });

  it('errors send() with a RequestTimeoutError when no reply comes within the client\'s timeoutMs', async () => {
    const client = new RedisBrokerClientProxy({ connection: { url: ctx.redis.url }, timeoutMs: 300 });
    try {
      await expect(firstValueFrom(client.send('nobody.serves', { x: 1 }))).rejects.toBeInstanceOf(RequestTimeoutError);
    } finally {
      await client.close();
    }
  });

  it('runs the library\'s own handlers, written with BrokerPayload and BrokerCtx, beside the transport\'s', async () => {
    await app.get(BrokerClient).enqueue('legacy.jobs', { n: 5 });
    const legacy = app.get(LegacyJobs);
    await waitFor(() => legacy.seen.length === 1, { description: 'the legacy job to run' });
    expect(legacy.seen).toEqual([{ n: 5, queue: 'legacy.jobs' }]);
  });

  it('applies guards and exception filters to @MessagePattern handlers', async () => {
    const client = app.get(BrokerClient);
    expect(await client.request('price.secret', { sku: 'x' }, { headers: { role: 'admin' } })).toBe('secret x');
    const denied = await client.request('price.secret', { sku: 'x' }).catch((error: unknown) => error);
    expect((denied as RequestFailedError).handlerError).toBe(JSON.stringify({ filtered: true, error: 'Forbidden resource' }));
    const proxy = app.get<ClientProxy>(ORDERS);
    await expect(firstValueFrom(proxy.send('price.secret', { sku: 'none' }))).rejects.toEqual({ filtered: true, error: 'Forbidden resource' });
  });

  it('retries a failing @EventPattern handler with the queue\'s backoff until it succeeds', async () => {
    const proxy = app.get<ClientProxy>(ORDERS);
    await firstValueFrom(proxy.emit('orders.flaky', { n: 1 }));
    await waitFor(() => seen.filter((s) => s.pattern === 'orders.flaky').length === 3, { description: 'three runs of the flaky event' });
    expect(seen.filter((s) => s.pattern === 'orders.flaky').map((s) => s.attempt)).toEqual([1, 2, 3]);
    await waitFor(async () => (await ctx.plain.llen('orders.flaky')) === 0, { description: 'the flaky queue to be empty' });
    expect(await app.get(QueueDeadLetterService).count('orders.flaky')).toBe(0);
  });

  it('routes a stream-routed pattern to a stream read by the server\'s consumer group', async () => {
    const proxy = app.get<ClientProxy>(ORDERS);
    const entryId = await firstValueFrom(proxy.emit<string>('audit.logged', { action: 'login', user: 'ada' }));
    await waitFor(() => controller.audits.length === 1, { description: 'the audit event to be handled' });
    expect(controller.audits).toEqual([{ action: 'login', user: 'ada' }]);
    expect(seen.find((s) => s.pattern === 'audit.logged')).toMatchObject({ id: entryId, stream: 'audit.logged', queue: undefined, type: 'rpc' });
    const groups = (await ctx.plain.xinfo('GROUPS', 'audit.logged')) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual(['orders-service']);
  });

  it('reports the transport\'s consumers in the app\'s /health', async () => {
    const response = await fetch(`${baseUrl}/health`);
    const body = (await response.json()) as { status: string; info: Record<string, { status: string; consumers: number }> };
    expect(response.status).toBe(200);
    // The module's one consumer (legacy.jobs) and the transport's six patterns.
    expect(body.info['redis-broker']).toEqual({ status: 'up', consumers: 7 });
    expect(server.health().map((h) => h.description).sort()).toEqual(
      ['queue "orders.created"', 'queue "orders.flaky"', 'queue "price.double"', 'queue "price.get"', 'queue "price.secret"',
        'stream "audit.logged" group "orders-service"'],
    );
  });

  it('passes terminus\' microservice ping check with the client proxy as its custom class, and fails it when Redis is not there', async () => {
    const microservice = await app.resolve(MicroserviceHealthIndicator);
    // terminus' types ask for a `transport`; the factory builds `customClass` whatever it says.
    const probe = (url: string) => ({ transport: Transport.TCP, customClass: RedisBrokerClientProxy, options: { connection: { url } } });
    expect(await microservice.pingCheck('orders-transport', probe(ctx.redis.url))).toMatchObject({ 'orders-transport': { status: 'up' } });
    const down = await microservice.pingCheck('orders-transport', probe('redis://127.0.0.1:1')).withTimeout(5_000);
    expect(down['orders-transport']).toMatchObject({ status: 'down' });
    expect(String(down['orders-transport'].message)).toContain('ECONNREFUSED');
  });
});
