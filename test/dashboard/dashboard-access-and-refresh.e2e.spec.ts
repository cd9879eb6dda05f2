import { Injectable, Module, type CanActivate, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  BrokerClient,
  DASHBOARD_ACTION_HEADER,
  InvalidBrokerOptionsError,
  NonRetryableError,
  QueueHandler,
  RedisBrokerDashboardModule,
  RedisBrokerModule,
  type DashboardOverview,
  type RedisBrokerDashboardOptions,
} from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, CapturingLogger } from '../support/broker-app.js';

@Injectable()
class RefusingReports {
  @QueueHandler('reports', { maxAttempts: 1 })
  render(): void {
    throw new NonRetryableError('template not found');
  }
}

const action = { [DASHBOARD_ACTION_HEADER]: '1' };

/** Calls of one command since the last `CONFIG RESETSTAT`, from `INFO commandstats`. */
async function calls(admin: Redis, command: string): Promise<number> {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await admin.info('commandstats'));
  return match ? Number(match[1]) : 0;
}

describe('the dashboard without a guard, and its refreshes', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url);
    // A dead letter made by a worker that is gone, and a queue only a producer ever wrote to.
    const worker = await bootBroker({ connection: { url: redis.url } }, [RefusingReports]);
    await worker.app.get(BrokerClient).enqueue('reports', { month: 5 });
    await waitForQueuesIdle(redis.url, ['reports']);
    await worker.app.close();
    const producer = await bootBroker({ connection: { url: redis.url }, producerOnly: true }, []);
    await producer.app.get(BrokerClient).enqueue('onlywaiting', {});
    await producer.app.close();
    // 30,000 keys the broker knows nothing about: a keyspace scan would walk them all.
    await admin.eval("for i = 1, 30000 do redis.call('SET', 'other:' .. i, 'x') end", 0);
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  async function mount(options: RedisBrokerDashboardOptions): Promise<{ base: string; logger: CapturingLogger }> {
    @Module({ imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url } }), RedisBrokerDashboardModule.register(options)] })
    class DashboardApp {}
    const logger = new CapturingLogger();
    const app = await NestFactory.create(DashboardApp, { logger });
    apps.push(app);
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    return { base: `http://127.0.0.1:${port}/${options.path ?? 'broker'}`, logger };
  }

  it('warns at boot, serves the page and the counts, and answers 403 to requeue and purge', async () => {
    const { base, logger } = await mount({});
    expect(logger.lines).toContainEqual(expect.objectContaining({
      level: 'warn',
      context: 'RedisBrokerDashboardModule',
      message: expect.stringContaining('The broker dashboard at /broker has no guard') as string,
    }));
    expect(logger.text()).toContain('requeue and purge routes answer 403');
    expect((await fetch(base)).status).toBe(200);
    expect((await fetch(`${base}/api/queues/reports/dead`)).status).toBe(200);
    for (const route of ['dead/purge', 'dead/requeue-all']) {
      const refused = await fetch(`${base}/api/queues/reports/${route}`, { method: 'POST', headers: action });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toContain('guards (your auth) or public: true');
    }
    expect(await admin.zcard('{reports}:dead')).toBe(1);
  });

  it('serves requeue and purge without a guard only with public: true, and says so at boot', async () => {
    const { base, logger } = await mount({ path: 'open', public: true });
    expect(logger.text()).toContain('The broker dashboard at /open is public (public: true)');
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    const purged = await fetch(`${base}/api/queues/reports/dead/purge`, { method: 'POST', headers: action });
    expect(await purged.json()).toEqual({ purged: 1 });
  });

  it('rejects a public option that is not a boolean, naming it', () => {
    expect(() => RedisBrokerDashboardModule.register({ public: 'yes' } as never)).toThrow(InvalidBrokerOptionsError);
    expect(() => RedisBrokerDashboardModule.register({ public: 'yes' } as never)).toThrow('dashboard.public');
  });

  it('lists a queue that only has waiting messages, and a refresh sends no SCAN over the keyspace', async () => {
    const { base } = await mount({ path: 'counts', public: true });
    await admin.config('RESETSTAT');
    const overview = (await (await fetch(`${base}/api/overview`)).json()) as DashboardOverview;
    expect(await calls(admin, 'scan')).toBe(0);
    expect(await calls(admin, 'smembers')).toBe(2);
    expect(overview.queues).toEqual([
      expect.objectContaining({ queue: 'onlywaiting', waiting: 1, consumers: 0 }),
      expect.objectContaining({ queue: 'reports', waiting: 0, dead: 0 }),
    ]);
  });

  it('records a queue and a stream once per producing process, however many messages it writes', async () => {
    const producer = await bootBroker({ connection: { url: redis.url }, producerOnly: true }, []);
    try {
      await admin.config('RESETSTAT');
      const client = producer.app.get(BrokerClient);
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.enqueue('bulk', { i })));
      await client.enqueueMany('bulk', [{ i: 20 }, { i: 21 }]);
      await client.enqueue('bulk', { i: 22 }, { delayMs: 60_000 });
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.append('clicks', { i })));
      await client.appendMany('clicks', [{ i: 20 }]);
      expect(await calls(admin, 'sadd')).toBe(2);
      expect(await admin.smembers('{}:registry:queues')).toContain('bulk');
      expect(await admin.smembers('{}:registry:streams')).toContain('clicks');
    } finally {
      await producer.app.close();
    }
  });

  it('answers refreshes that arrive while one is reading from that same read', async () => {
    let entered = 0;
    const counting: CanActivate = { canActivate: () => ++entered > 0 };
    const { base } = await mount({ path: 'busy', guards: [counting] });
    await admin.config('RESETSTAT');
    // Redis frozen (SIGSTOP): the first refresh's read stays open while the others arrive.
    redis.pause();
    let responses: Promise<DashboardOverview[]>;
    try {
      responses = Promise.all(Array.from({ length: 5 }, async () => (await (await fetch(`${base}/api/overview`)).json()) as DashboardOverview));
      await waitFor(() => entered === 5, { description: 'five refreshes past the guard' });
    } finally {
      redis.resume();
    }
    const read = await responses;
    expect(new Set(read.map((o) => o.readAt)).size).toBe(1);
    expect(await calls(admin, 'smembers')).toBe(2);
  });

  // Last: the restart drops every key of this file's Redis.
  it('records its names again after Redis restarted without its data', async () => {
    const producer = await bootBroker({ connection: { url: redis.url }, producerOnly: true }, []);
    try {
      await producer.app.get(BrokerClient).enqueue('survivor', {});
      await producer.app.get(BrokerClient).append('survivor-events', { n: 1 });
      await redis.restart();
      await waitFor(async () => (await admin.smembers('{}:registry:queues')).includes('survivor'), { description: 'the queue recorded again' });
      expect(await admin.smembers('{}:registry:streams')).toContain('survivor-events');
    } finally {
      await producer.app.close();
    }
  });
});
