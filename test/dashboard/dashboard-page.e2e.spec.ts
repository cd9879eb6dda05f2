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

/** What the refresh test adds to the page's window. */
interface PageGlobals {
  fetch: typeof fetch;
  overviewCalls: { calls: number; release(): void };
}

@Injectable()
class BrokenReports {
  @QueueHandler('reports', { maxAttempts: 1 })
  render(): void {
    throw new NonRetryableError('template "monthly" not found');
  }
}

@Injectable()
class WorkerHandlers {
  @QueueHandler('greetings', { batch: { size: 10, maxWaitMs: 5 } })
  greet(): void {}

  @QueueHandler('thumbnails', { maxAttempts: 1 })
  thumbnail(payload: { file: string }): void {
    throw new Error(`image ${payload.file} is too large`);
  }

  @StreamConsumer({ stream: 'user-events', group: 'analytics', batch: { size: 50 } })
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
      imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url } }), RedisBrokerDashboardModule.register({ path: 'dashboard', refreshIntervalMs: 500, public: true })],
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
    // The batch option each handler's consumers recorded in Redis (the default maxWaitMs is 20).
    expect(await cell('greetings', 'batch').textContent()).toBe('10 / 5 ms');
    expect(await cell('thumbnails', 'batch').textContent()).toBe('');
    expect(await page.locator('#streams tr[data-group="analytics"] td[data-field="batch"]').textContent()).toBe('50 / 20 ms');
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

  it('starts the next refresh only once the previous one has answered, however slow it is', async () => {
    const held = await browser.newPage();
    try {
      // Counts the page's overview calls as it makes them, and holds every answer until the test releases it.
      await held.addInitScript(() => {
        const page = globalThis as unknown as PageGlobals;
        const state = { calls: 0, release: (): void => {} };
        const gate = new Promise<void>((resolve) => (state.release = resolve));
        const real = page.fetch.bind(page);
        page.overviewCalls = state;
        page.fetch = async (input, init) => {
          if ((input instanceof Request ? input.url : input.toString()).endsWith('/api/overview')) {
            state.calls += 1;
            await gate;
          }
          return real(input, init);
        };
      });
      await held.clock.install();
      await held.goto(`${base}/dashboard`);
      const calls = (): Promise<number> => held.evaluate(() => (globalThis as unknown as PageGlobals).overviewCalls.calls);
      await waitFor(async () => (await calls()) >= 1, { description: 'the first overview call' });
      // Ten refresh intervals pass while the first answer is held: no second call piles up.
      await held.clock.runFor(10 * 500);
      expect(await calls()).toBe(1);
      await held.evaluate(() => (globalThis as unknown as PageGlobals).overviewCalls.release());
      await held.locator('#status', { hasText: 'updated' }).waitFor();
      await held.clock.runFor(500);
      await waitFor(async () => (await calls()) >= 2, { description: 'the next refresh after the answer' });
    } finally {
      await held.close();
    }
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

// Markup in every place the page shows text from Redis or from a handler. Names may not hold white space,
// so theirs use "/" between attributes; errors, payloads and reasons carry the spaced forms.
const EVIL_QUEUE = "<img/src='x'/onerror=window.__x=1>";
const EVIL_STREAM = '<script>window.__x=2</script>';
const EVIL_GROUP = "<img/src='y'/onerror=window.__x=3>";
const EVIL_ERROR = '<img src=x onerror=window.__x=4><script>window.__x=5</script>';
const EVIL_PAYLOAD = JSON.stringify({ html: '<img src=x onerror=window.__x=6><script>window.__x=7</script>' });
const EVIL_REASON = '<img src=x onerror=window.__x=8>';

@Injectable()
class MarkupHandlers {
  @QueueHandler(EVIL_QUEUE, { maxAttempts: 1 })
  queue(): void {
    throw new Error(EVIL_ERROR);
  }

  @StreamConsumer({ stream: EVIL_STREAM, group: EVIL_GROUP, maxDeliveries: 1 })
  stream(): void {
    throw new Error(EVIL_ERROR);
  }
}

describe('the dashboard page with markup in names, errors, reasons and payloads', () => {
  let redis: RedisServerHandle;
  let app: INestApplication;
  let browser: Browser;
  let page: Page;
  let plain: Redis;
  let base: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    @Module({
      imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url } }), RedisBrokerDashboardModule.register({ path: 'dashboard', refreshIntervalMs: 500 })],
      providers: [MarkupHandlers],
    })
    class MarkupApp {}
    app = await NestFactory.create(MarkupApp, { logger: new CapturingLogger() });
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    await plain.lpush(EVIL_QUEUE, EVIL_PAYLOAD);
    await plain.xadd(EVIL_STREAM, '*', 'html', EVIL_PAYLOAD);
    await waitFor(async () => (await app.get(QueueInspector).stats(EVIL_QUEUE)).dead === 1, { description: 'the queue message to die' });
    await waitFor(async () => (await plain.xlen(`{${EVIL_STREAM}}:dead:${EVIL_GROUP}`)) === 1, { description: 'the stream entry to die' });
    // A reason is one of the library's words; a dead-letter stream is plain Redis, so a hand-written record can hold any.
    await plain.xadd(`{${EVIL_STREAM}}:dead:${EVIL_GROUP}`, '*', 'originalId', '1-1', 'stream', EVIL_STREAM, 'group', EVIL_GROUP,
      'consumer', 'by-hand', 'reason', EVIL_REASON, 'error', EVIL_ERROR, 'deliveries', '1', 'handler', 'x', 'failedAt', '1', 'fields', JSON.stringify(['html', EVIL_PAYLOAD]));

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  /** Elements the page did not create itself: any img, and any script beyond the page's one. */
  const injected = async (): Promise<number> => (await page.locator('img').count()) + (await page.locator('script').count()) - 1;
  const marker = async (): Promise<unknown> => page.evaluate('window.__x');

  it('shows every piece of markup as literal text and runs none of it', async () => {
    await page.goto(`${base}/dashboard`);
    const queueRow = page.locator('#queues tr[data-queue]');
    await queueRow.first().waitFor();
    expect(await queueRow.first().locator('td').first().textContent()).toBe(EVIL_QUEUE);
    expect(await queueRow.first().getAttribute('data-queue')).toBe(EVIL_QUEUE);
    const groupRow = page.locator('#streams tr[data-group]');
    await groupRow.first().waitFor();
    expect(await groupRow.first().locator('td').nth(0).textContent()).toBe(EVIL_STREAM);
    expect(await groupRow.first().locator('td').nth(2).textContent()).toBe(EVIL_GROUP);
    const failures = page.locator('#failures td.error-text');
    await failures.nth(1).waitFor();
    expect(await failures.allTextContents()).toEqual([EVIL_ERROR, EVIL_ERROR]);

    // Dead letters of the queue: the error and the payload, as text.
    await queueRow.first().locator('button', { hasText: 'Dead letters' }).click();
    const dead = page.locator('#dead tr[data-dead-id]');
    await dead.first().waitFor();
    expect(await dead.first().locator('td.error-text').textContent()).toBe(EVIL_ERROR);
    expect(await dead.first().locator('pre').textContent()).toBe(EVIL_PAYLOAD);
    expect(await page.locator('#dead-title').textContent()).toBe(`Dead letters of queue ${EVIL_QUEUE}`);

    // Dead letters of the group: the hand-written reason, the error and the fields, as text.
    await groupRow.first().locator('button', { hasText: 'Dead letters' }).click();
    await page.locator('#dead tr[data-dead-id]').nth(1).waitFor();
    expect(await page.locator('#dead tr[data-dead-id] td:nth-child(3)').allTextContents()).toEqual([EVIL_REASON, 'max-deliveries']);
    expect(await page.locator('#dead td.error-text').allTextContents()).toEqual([EVIL_ERROR, EVIL_ERROR]);
    expect(await page.locator('#dead pre').allTextContents()).toEqual([
      JSON.stringify({ html: EVIL_PAYLOAD }, null, 1),
      JSON.stringify({ html: EVIL_PAYLOAD }, null, 1),
    ]);
    expect(await page.locator('#dead-title').textContent()).toBe(`Dead letters of group ${EVIL_GROUP} of stream ${EVIL_STREAM}`);

    // Nothing became an element, and no handler ran (an img's onerror would have set window.__x by the
    // time a refresh cycle has passed: wait for the status line to change once more).
    expect(await injected()).toBe(0);
    const status = await page.locator('#status').textContent();
    await waitFor(async () => (await page.locator('#status').textContent()) !== status, { description: 'another refresh of the page' });
    expect(await injected()).toBe(0);
    expect(await marker()).toBeUndefined();
  });
});
