import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisBrokerDashboardModule, RedisBrokerModule, SchedulerService, type DashboardOverview, type ScheduleInfo } from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/broker-app.js';
import { buildCli, runCli } from '../support/cli.js';

describe('schedules in the dashboard and the CLI', () => {
  let redis: RedisServerHandle;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    [redis] = await Promise.all([startRedisServer(), buildCli()]);
    @Module({
      imports: [
        RedisBrokerModule.forRoot({ connection: { url: redis.url }, keyPrefix: 'app:' }),
        RedisBrokerDashboardModule.register({ path: 'broker', public: true }),
      ],
    })
    class AppWithDashboard {}
    app = await NestFactory.create(AppWithDashboard, { logger: new CapturingLogger() });
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}/broker`;
    const scheduler = app.get(SchedulerService);
    await scheduler.schedule('heartbeat', { every: 100, limit: 2 }, { queue: 'beats' });
    await scheduler.schedule('nightly', { cron: '0 2 * * *', timeZone: 'Europe/Berlin' }, { stream: 'reports' }, { kind: 'nightly' });
    await waitFor(async () => (await scheduler.schedules())[0].runs === 2, { description: 'two heartbeats' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('lists every schedule with target, next run and last run in the dashboard API and page', async () => {
    const overview = (await (await fetch(`${base}/api/overview`)).json()) as DashboardOverview;
    expect(overview.schedules.map((s) => [s.id, s.target, s.runs, s.nextRunAt === null, typeof s.lastRunAt])).toEqual([
      ['heartbeat', { queue: 'beats' }, 2, true, 'number'],
      ['nightly', { stream: 'reports' }, 0, false, 'object'],
    ]);
    const page = await (await fetch(base)).text();
    expect(page).toContain('<table id="schedules">');
    expect(page).toContain('drawSchedules(overview)');
  });

  it('prints the schedules as a table and as JSON with `schedules`', async () => {
    const env = { REDIS_URL: redis.url, BROKER_KEY_PREFIX: 'app:' };
    const json = await runCli(['schedules', '--json'], env);
    expect(json.code).toBe(0);
    const { schedules } = JSON.parse(json.stdout) as { schedules: ScheduleInfo[] };
    expect(schedules.map((s) => s.id)).toEqual(['heartbeat', 'nightly']);
    expect(schedules[1].definition).toMatchObject({ cron: '0 2 * * *', timeZone: 'Europe/Berlin', misfire: 'fire-once' });
    const text = await runCli(['schedules'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/SCHEDULE\s+TARGET\s+WHEN\s+NEXT RUN\s+LAST RUN\s+RUNS/);
    expect(text.stdout).toMatch(/heartbeat\s+queue beats\s+every 100 ms\s+ended\s+\S+Z\s+2/);
    expect(text.stdout).toMatch(/nightly\s+stream reports\s+0 2 \* \* \* \(Europe\/Berlin\)\s+\S+Z\s+-\s+0/);
    expect((await runCli(['schedules', 'extra'], env)).code).toBe(2);
  });
});
