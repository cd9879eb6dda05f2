import { Inject, Injectable, Module, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  DASHBOARD_ACTION_HEADER,
  InvalidBrokerOptionsError,
  OnChannel,
  RedisBrokerDashboardModule,
  RedisBrokerModule,
  StreamConsumer,
  type DashboardOverview,
  type StreamDeadLetter,
} from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/broker-app.js';

const OPERATOR_TOKEN = Symbol('operator token');

/** The app's own auth: a guard class with a dependency that comes from the app's auth module. */
@Injectable()
class OperatorGuard implements CanActivate {
  constructor(@Inject(OPERATOR_TOKEN) private readonly token: string) {}
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-operator'] === this.token;
  }
}

@Module({ providers: [{ provide: OPERATOR_TOKEN, useValue: 'letmein' }], exports: [OPERATOR_TOKEN] })
class AuthModule {}

@Injectable()
class FailingBilling {
  @StreamConsumer({ stream: 'orders', group: 'billing', maxDeliveries: 1 })
  bill(fields: Record<string, string>): void {
    throw new Error(`cannot bill ${fields.orderId}`);
  }

  @OnChannel({ channel: 'prices', sharded: true })
  reprice(): void {}
}

describe('the dashboard API behind the app guard', () => {
  let redis: RedisServerHandle;
  let app: INestApplication;
  let plain: Redis;
  let subscriber: Redis;
  let base: string;
  const operator = { 'x-operator': 'letmein' };
  const action = { ...operator, [DASHBOARD_ACTION_HEADER]: '1' };

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    subscriber = new Redis(redis.url);
    @Module({
      imports: [
        RedisBrokerModule.forRoot({ connection: { url: redis.url }, keyPrefix: 'app:' }),
        RedisBrokerDashboardModule.register({ path: '/ops/broker/', guards: [OperatorGuard], imports: [AuthModule] }),
      ],
      providers: [FailingBilling],
    })
    class AppWithDashboard {}
    app = await NestFactory.create(AppWithDashboard, { logger: new CapturingLogger() });
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}/ops/broker`;
    await plain.xadd('app:orders', '*', 'orderId', 'o-1');
    await waitFor(async () => (await plain.xlen('{app:orders}:dead:billing')) === 1, { description: 'a dead order' });
    await subscriber.subscribe('app:news', 'elsewhere');
    await plain.zadd('{legacy}:dead', 1, 'x');
  });

  afterAll(async () => {
    await app?.close();
    subscriber?.disconnect();
    plain?.disconnect();
    await redis?.stop();
  });

  const overview = async (): Promise<DashboardOverview> => (await (await fetch(`${base}/api/overview`, { headers: operator })).json()) as DashboardOverview;

  it("answers 403 for the page and every API call without the app's guard, and serves them with it", async () => {
    expect((await fetch(base)).status).toBe(403);
    expect((await fetch(`${base}/api/overview`)).status).toBe(403);
    expect((await fetch(`${base}/api/streams/orders/groups/billing/dead/purge`, { method: 'POST', headers: { [DASHBOARD_ACTION_HEADER]: '1' } })).status).toBe(403);
    const page = await fetch(base, { headers: operator });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>Broker dashboard</title>');
  });

  it('shows only what lives under the key prefix, with names as the app uses them', async () => {
    const o = await overview();
    expect(o.keyPrefix).toBe('app:');
    expect(o.queues).toEqual([]);
    expect(o.streams.map((s) => [s.stream, s.groups.map((g) => [g.group, g.dead])])).toEqual([['orders', [['billing', 1]]]]);
    expect(o.channels).toEqual([
      { channel: 'news', subscribers: 1, sharded: false },
      { channel: 'prices', subscribers: 1, sharded: true },
    ]);
    expect(o.handlers).toEqual([
      { kind: 'stream', source: 'orders/billing', handler: 'FailingBilling@bill' },
      { kind: 'channel', source: 'sharded channel "prices"', handler: 'FailingBilling@reprice' },
    ]);
    expect(o.listeners).toEqual([expect.objectContaining({ handler: 'FailingBilling@reprice', source: 'sharded channel "prices"', dropped: 0 })]);
    expect(o.recentFailures).toEqual([expect.objectContaining({ source: 'orders/billing', error: 'cannot bill o-1' })]);
    expect(o.throughput.slices.reduce((sum, s) => sum + s.failed, 0)).toBe(1);
  });

  it('refuses every state change without the dashboard header or with a wrong value, and no GET changes state', async () => {
    // A dead letter of a queue, written as the broker writes one (the app has no queue handler).
    const record = { id: 'd-1', queue: 'reports', reason: 'max-attempts', error: 'boom', attempts: 1, consumer: 'c', failedAt: 1 };
    await plain.zadd('{app:reports}:dead', 1, 'd-1');
    await plain.hset('{app:reports}:dead:records', 'd-1', JSON.stringify(record));
    await plain.hset('{app:reports}:dead:messages', 'd-1', '{"report":"monthly"}');
    const [streamDead] = (await (await fetch(`${base}/api/streams/orders/groups/billing/dead`, { headers: operator })).json()) as StreamDeadLetter[];
    const routes = [
      '/api/queues/reports/dead/requeue-all',
      '/api/queues/reports/dead/purge',
      '/api/queues/reports/dead/d-1/requeue',
      '/api/streams/orders/groups/billing/dead/requeue-all',
      '/api/streams/orders/groups/billing/dead/purge',
      `/api/streams/orders/groups/billing/dead/${streamDead.id}/requeue`,
    ];
    const before = await redisState(plain);
    expect(before).toContain('{app:reports}:dead:messages');
    expect(before).toContain('{app:orders}:dead:billing');
    for (const route of routes) {
      for (const header of [undefined, '0', 'true', '']) {
        const headers = header === undefined ? operator : { ...operator, [DASHBOARD_ACTION_HEADER]: header };
        const response = await fetch(`${base}${route}`, { method: 'POST', headers });
        expect(response.status, `POST ${route} with ${DASHBOARD_ACTION_HEADER}: ${String(header)}`).toBe(400);
        expect(((await response.json()) as { message: string }).message).toContain(DASHBOARD_ACTION_HEADER);
      }
      // A GET (which a link or an <img> can send) carrying the header changes nothing either.
      expect((await fetch(`${base}${route}`, { headers: action })).status, `GET ${route}`).toBe(404);
    }
    for (const read of ['', '/api/overview', '/api/queues/reports/dead', '/api/streams/orders/groups/billing/dead']) {
      expect((await fetch(`${base}${read}`, { headers: action })).status, `GET ${read}`).toBe(200);
    }
    expect(await redisState(plain)).toEqual(before);
    // With the header the same call works (and removes the hand-written dead letter again).
    const purged = await fetch(`${base}/api/queues/reports/dead/purge`, { method: 'POST', headers: action });
    expect(await purged.json()).toEqual({ purged: 1 });
    expect(await plain.exists('{app:reports}:dead', '{app:reports}:dead:records', '{app:reports}:dead:messages')).toBe(0);
  });

  it('lists and requeues a dead stream entry, answers 404 for an unknown id and 400 for an invalid name', async () => {
    const dead = (await (await fetch(`${base}/api/streams/orders/groups/billing/dead`, { headers: operator })).json()) as StreamDeadLetter[];
    expect(dead).toEqual([expect.objectContaining({ error: 'cannot bill o-1', fields: { orderId: 'o-1' } })]);
    const missing = await fetch(`${base}/api/streams/orders/groups/billing/dead/1-1/requeue`, { method: 'POST', headers: action });
    expect(missing.status).toBe(404);
    const invalid = await fetch(`${base}/api/queues/${encodeURIComponent('a b')}/dead`, { headers: operator });
    expect(invalid.status).toBe(400);

    const requeued = await fetch(`${base}/api/streams/orders/groups/billing/dead/${dead[0].id}/requeue`, { method: 'POST', headers: action });
    expect(await requeued.json()).toEqual({ requeued: 1 });
    // The failing consumer reads its requeue stream and dead-letters the entry again.
    await waitFor(async () => (await overview()).recentFailures.length === 2, { description: 'the requeued entry to run again' });
  });

  it('purges the dead letters of a group', async () => {
    await waitFor(async () => (await plain.xlen('{app:orders}:dead:billing')) === 1, { description: 'the entry to be dead again' });
    const purged = await fetch(`${base}/api/streams/orders/groups/billing/dead/purge`, { method: 'POST', headers: action });
    expect(await purged.json()).toEqual({ purged: 1 });
    expect(await plain.exists('{app:orders}:dead:billing')).toBe(0);
  });

  it('rejects an unknown option at registration, naming it', () => {
    expect(() => RedisBrokerDashboardModule.register({ pth: 'x' } as never)).toThrow(InvalidBrokerOptionsError);
    expect(() => RedisBrokerDashboardModule.register({ pth: 'x' } as never)).toThrow('dashboard.pth');
    expect(() => RedisBrokerDashboardModule.register({ path: '../etc' })).toThrow('dashboard.path');
  });
});

/** Every key with its type and content, as text: equal before and after means nothing changed. */
async function redisState(client: Redis): Promise<string> {
  const keys = (await client.keys('*')).sort();
  const entries: string[] = [];
  for (const key of keys) {
    const type = await client.type(key);
    let content: unknown;
    if (type === 'string') content = await client.get(key);
    else if (type === 'list') content = await client.lrange(key, 0, -1);
    else if (type === 'hash') content = await client.hgetall(key);
    else if (type === 'zset') content = await client.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'set') content = (await client.smembers(key)).sort();
    else if (type === 'stream') content = await client.xrange(key, '-', '+');
    entries.push(`${key} ${type} ${JSON.stringify(content)}`);
  }
  return entries.join('\n');
}
