import { mkdirSync } from 'node:fs';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  BrokerClient,
  NonRetryableError,
  QueueHandler,
  QueueInspector,
  RedisBrokerDashboardModule,
  RedisBrokerModule,
  StreamConsumer,
} from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, CapturingLogger } from '../support/broker-app.js';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

@Injectable()
class BrokenReports {
  @QueueHandler('reports', { maxAttempts: 1 })
  render(): void {
    throw new NonRetryableError('template "monthly" not found');
  }
}

@Injectable()
class WorkerHandlers {
  @QueueHandler('greetings')
  greet(): void {}

  @QueueHandler('thumbnails', { maxAttempts: 1 })
  thumbnail(payload: { file: string }): void {
    throw new Error(`image ${payload.file} is too large`);
  }

  @StreamConsumer({ stream: 'user-events', group: 'analytics' })
  track(): void {}
}

describe('the dashboard page in a real browser', () => {
  let redis: RedisServerHandle;
  let app: INestApplication;
  let browser: Browser;
  let page: Page;
  let plain: Redis;
  let base: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    // A message of "reports" dies in an earlier process; the dashboard's process has no handler for that queue.
    const earlier = await bootBroker({ connection: { url: redis.url } }, [BrokenReports]);
    await plain.lpush('reports', JSON.stringify({ report: 'monthly', month: '2024-05' }));
    await waitForQueuesIdle(redis.url, ['reports']);
    await earlier.app.close();

    @Module({
      imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url } }), RedisBrokerDashboardModule.register({ path: 'dashboard', refreshIntervalMs: 500 })],
      providers: [WorkerHandlers],
    })
    class WorkerWithDashboard {}
    app = await NestFactory.create(WorkerWithDashboard, { logger: new CapturingLogger() });
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;

    const client = app.get(BrokerClient);
    await client.enqueueMany('reports', [{ report: 'a' }, { report: 'b' }, { report: 'c' }]);
    await client.enqueueMany('greetings', Array.from({ length: 20 }, (_, i) => ({ to: `user-${i}` })));
    await client.enqueue('thumbnails', { file: 'holiday.jpg' });
    await client.appendMany('user-events', [{ userId: '1', eventType: 'login' }, { userId: '2', eventType: 'purchase' }]);
    await waitForQueuesIdle(redis.url, ['greetings', 'thumbnails']);

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  const cell = (queue: string, field: string) => page.locator(`#queues tr[data-queue="${queue}"] td[data-field="${field}"]`);

  it('shows a queue with its known depth and its dead letter', async () => {
    await page.goto(`${base}/dashboard`);
    await cell('reports', 'waiting').filter({ hasText: /^3$/ }).waitFor();
    expect(await cell('reports', 'dead').textContent()).toBe('1');
    await page.locator('#streams tr[data-stream="user-events"][data-group="analytics"]').waitFor();
    await page.locator('#failures td', { hasText: 'image holiday.jpg is too large' }).waitFor();
  });

  it('requeues a dead message after confirmation and the depth changes', async () => {
    const questions: string[] = [];
    page.on('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    await page.locator('#queues tr[data-queue="reports"] button', { hasText: 'Dead letters' }).click();
    const dead = page.locator('#dead tr[data-dead-id]');
    await dead.first().waitFor();
    expect(await dead.count()).toBe(1);
    expect(await dead.first().textContent()).toContain('template "monthly" not found');
    await page.screenshot({ path: new URL('dashboard.png', ARTIFACTS).pathname, fullPage: true });

    await dead.first().locator('button', { hasText: 'Requeue' }).click();
    await cell('reports', 'waiting').filter({ hasText: /^4$/ }).waitFor();
    expect(await cell('reports', 'dead').textContent()).toBe('0');
    expect(questions).toEqual([expect.stringContaining('Requeue dead letter')]);
    expect(await app.get(QueueInspector).stats('reports')).toMatchObject({ waiting: 4, dead: 0 });
    await page.locator('#dead td', { hasText: 'No dead letter.' }).waitFor();
    await page.screenshot({ path: new URL('dashboard-after-requeue.png', ARTIFACTS).pathname, fullPage: true });
  });

  it('keeps a dead letter when the operator cancels the confirmation', async () => {
    await plain.lpush('thumbnails', JSON.stringify({ file: 'beach.jpg' }));
    await waitFor(async () => (await app.get(QueueInspector).stats('thumbnails')).dead === 2, { description: 'a second dead thumbnail' });
    page.removeAllListeners('dialog');
    page.on('dialog', (dialog) => void dialog.dismiss());
    await page.locator('#queues tr[data-queue="thumbnails"] button', { hasText: 'Dead letters' }).click();
    await page.locator('#dead tr[data-dead-id]').nth(1).waitFor();
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request.url());
    });
    await page.locator('#dead-purge').click();
    // The page's next read of the list (its periodic refresh) is issued after the dismissal: a purge
    // request the click had sent would have been issued before it.
    const later = await page.waitForRequest((request) => request.method() === 'GET' && request.url().endsWith('/queues/thumbnails/dead'));
    await later.response();
    expect(posts).toEqual([]);
    await page.locator('#dead tr[data-dead-id]').nth(1).waitFor();
    expect((await app.get(QueueInspector).stats('thumbnails')).dead).toBe(2);
  });
});
