import { startRedisServer, type RedisServerHandle } from 'nest-redis-broker/testing';
import type { DashboardOverview } from 'nest-redis-broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootWorker, http, sampleConfig, type RunningApp } from '../support/timeline-apps.js';

describe('the sample worker mounts the dashboard', () => {
  let redis: RedisServerHandle;
  let worker: RunningApp;
  let cleanup: () => void;

  beforeAll(async () => {
    redis = await startRedisServer();
    const sample = sampleConfig(redis.url);
    cleanup = sample.cleanup;
    worker = await bootWorker(sample.config);
  });

  afterAll(async () => {
    await worker?.app.close();
    cleanup?.();
    await redis?.stop();
  });

  it('serves the page at /dashboard and lists the worker handlers in the overview', async () => {
    const page = await http(worker.url, 'GET', '/dashboard');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Broker dashboard</title>');
    const overview = await http<DashboardOverview>(worker.url, 'GET', '/dashboard/api/overview');
    expect(overview.status).toBe(200);
    expect(new Set(overview.body.handlers.map((h) => h.kind))).toEqual(new Set(['queue', 'stream', 'channel']));
  });
});
