import { startRedisServer, type RedisServerHandle } from 'nest-redis-broker/testing';
import type { DashboardOverview } from 'nest-redis-broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootWorker, sampleConfig, type RunningApp } from '../support/timeline-apps.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the sample worker mounts the dashboard', () => {
  let redis: RedisServerHandle;
  let worker: RunningApp;
  let cleanup: () => void;

  beforeAll(async () => {
    redis = await startRedisServer();
    const sample = sampleConfig(redis.url, { dashboardPassword: 'test-dashboard-pw' });
    cleanup = sample.cleanup;
    worker = await bootWorker(sample.config);
  });

  afterAll(async () => {
    await worker?.app.close();
    cleanup?.();
    await redis?.stop();
  });

  it('asks for credentials (HTTP Basic) before the page and the API', async () => {
    const anonymous = await fetch(`${worker.url}/dashboard`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="broker dashboard"');
    const wrong = await fetch(`${worker.url}/dashboard/api/overview`, { headers: { authorization: basic('admin', 'nope') } });
    expect(wrong.status).toBe(401);
    expect(worker.logger.text()).not.toContain('has no guard');
  });

  it('serves the page at /dashboard and lists the worker handlers in the overview', async () => {
    const headers = { authorization: basic('admin', 'test-dashboard-pw') };
    const page = await fetch(`${worker.url}/dashboard`, { headers });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Broker dashboard</title>');
    const overview = await fetch(`${worker.url}/dashboard/api/overview`, { headers });
    expect(overview.status).toBe(200);
    const body = (await overview.json()) as DashboardOverview;
    expect(new Set(body.handlers.map((h) => h.kind))).toEqual(new Set(['queue', 'stream', 'channel']));
  });
});
