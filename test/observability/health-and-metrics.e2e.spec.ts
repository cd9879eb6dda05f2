import { Injectable } from '@nestjs/common';
import { BrokerClient, Payload, QueueHandler } from 'nest-redis-broker';
import { BrokerHealthIndicator, BrokerMetrics, RedisBrokerHealthModule, RedisBrokerMetricsModule } from 'nest-redis-broker/observability';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { deferred } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';
import { metricSample, metricValue } from '../support/timeline-apps.js';

let release = deferred();
const started: number[] = [];

@Injectable()
class ObservedHandlers {
  @QueueHandler('obs-ok', { blockTimeoutMs: 100 })
  ok(): void {}

  @QueueHandler('obs-failing', { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 }, blockTimeoutMs: 100 })
  failing(): void {
    throw new Error('always fails');
  }

  @QueueHandler('obs-slow', { blockTimeoutMs: 100 })
  async slow(@Payload() id: number): Promise<void> {
    started.push(id);
    await release.promise;
  }
}

describe('observability: broker metrics and health indicator', () => {
  const broker = useBrokerApp({}, [ObservedHandlers], {
    imports: [RedisBrokerHealthModule, RedisBrokerMetricsModule.forRoot({ queues: ['obs-produced-only'], defaultMetrics: false })],
  });

  afterAll(() => {
    release.resolve();
  });

  it('counts handled, failed, retried and dead-lettered messages per queue and handler, and reads queue depths on scrape', async () => {
    const client = broker.app.get(BrokerClient);
    await client.enqueueMany('obs-ok', [1, 2, 3]);
    await client.enqueue('obs-failing', { n: 1 });
    await client.enqueueMany('obs-produced-only', ['a', 'b']);
    await waitForQueuesIdle(broker.redis.url, ['obs-ok', 'obs-failing']);
    const ok = { kind: 'queue', source: 'obs-ok', handler: 'ObservedHandlers@ok' };
    const failing = { kind: 'queue', source: 'obs-failing', handler: 'ObservedHandlers@failing' };
    // Redis shows the queues settled a moment before the process has counted the last outcome
    // (the counters move when the settling command's reply is read): wait for the last ones.
    let text = '';
    await waitFor(async () => {
      text = await broker.app.get(BrokerMetrics).metricsText();
      return metricSample(text, 'nrb_messages_handled_total', ok) === 3
        && metricSample(text, 'nrb_messages_dead_lettered_total', { ...failing, reason: 'max-attempts' }) === 1;
    }, { description: 'the metrics to count every settled message' });
    expect(metricValue(text, 'nrb_messages_handled_total', ok)).toBe(3);
    expect(metricValue(text, 'nrb_handler_duration_seconds_count', { ...ok, outcome: 'handled' })).toBe(3);
    expect(metricValue(text, 'nrb_messages_failed_total', failing)).toBe(2);
    expect(metricValue(text, 'nrb_messages_retried_total', failing)).toBe(1);
    expect(metricValue(text, 'nrb_messages_dead_lettered_total', { ...failing, reason: 'max-attempts' })).toBe(1);
    expect(metricValue(text, 'nrb_queue_dead_letters', { queue: 'obs-failing' })).toBe(1);
    expect(metricValue(text, 'nrb_queue_waiting', { queue: 'obs-produced-only' })).toBe(2);
    expect(metricValue(text, 'nrb_consumer_running', { consumer: 'queue "obs-ok"' })).toBe(1);
    expect(text).not.toContain('process_cpu_user_seconds_total');
  });

  it('reports live and ready while Redis answers and every loop fetches', async () => {
    const health = broker.app.get(BrokerHealthIndicator);
    expect(await health.isAlive()).toMatchObject({ 'redis-broker': { status: 'up', consumers: 3 } });
    expect(await health.isReady()).toMatchObject({ 'redis-broker': { status: 'up' } });
  });

  it('reports a loop whose fetch never returns as stuck (not live) while Redis is frozen, and live again once it answers', async () => {
    const health = broker.app.get(BrokerHealthIndicator);
    broker.redis.pause();
    try {
      expect(await health.isReady()).toMatchObject({ 'redis-broker': { status: 'down' } });
      await waitFor(async () => (await health.isAlive())['redis-broker'].status === 'down', { timeoutMs: 30_000, description: 'a stuck loop' });
      const result = await health.isAlive();
      expect(result['redis-broker']).toMatchObject({ message: 'consumer loop stuck' });
    } finally {
      broker.redis.resume();
    }
    await waitFor(async () => (await health.isAlive())['redis-broker'].status === 'up', { timeoutMs: 30_000, description: 'live again' });
    await waitFor(async () => (await health.isReady())['redis-broker'].status === 'up', { timeoutMs: 30_000, description: 'ready again' });
  });

  it('reports not ready as soon as shutdown begins, while handlers still drain', async () => {
    release = deferred();
    await broker.app.get(BrokerClient).enqueue('obs-slow', 7);
    await waitFor(() => started.includes(7), { description: 'the slow handler to start' });
    const health = broker.app.get(BrokerHealthIndicator);
    const closing = broker.app.close();
    await waitFor(async () => (await health.isReady())['redis-broker'].status === 'down', { description: 'not ready while draining' });
    expect(await health.isReady()).toMatchObject({ 'redis-broker': { message: 'shutting down' } });
    release.resolve();
    await closing;
  });
});
