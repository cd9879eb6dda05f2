import { Injectable, Module, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  BrokerClient, DASHBOARD_ACTION_HEADER, NonRetryableError, OnChannel, Payload, QueueDeadLetterService, QueueHandler,
  RedisBrokerDashboardModule, RedisBrokerModule, StreamConsumer, StreamDeadLetterService, type DashboardOverview,
  type QueueDeadLetter, type StreamDeadLetter,
} from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, CapturingLogger } from '../support/broker-app.js';
import { buildCli, runCli, spawnCli, type CliResult } from '../support/cli.js';
import { BROKER_ACL_RULES, OPERATOR_ACL_RULES } from './broker-acl.js';

const heard: string[] = [];

/** A worker whose queue and stream handlers always fail: everything they get ends as a dead letter. */
@Injectable()
class FailingWorker {
  @QueueHandler('refused', { maxAttempts: 1 })
  refuse(): void {
    throw new NonRetryableError('refused');
  }

  @StreamConsumer({ stream: 'events', group: 'g', maxDeliveries: 1, reclaimIntervalMs: 50 })
  events(): void {
    throw new Error('bad entry');
  }

  @OnChannel('news')
  news(@Payload() text: string): void {
    heard.push(text);
  }
}

describe('the worker and operator roles of the documented ACL, each as its own Redis user', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  let worker: INestApplicationContext;
  let workerLogs: CapturingLogger;
  let dashboard: INestApplication;
  const dashboardLogs = new CapturingLogger();
  let base: string;
  let cli: (...args: string[]) => Promise<CliResult>;
  const action = { [DASHBOARD_ACTION_HEADER]: '1' };

  beforeAll(async () => {
    [redis] = await Promise.all([startRedisServer(), buildCli()]);
    admin = new Redis(redis.url);
    await admin.call('ACL', 'SETUSER', 'broker', ...BROKER_ACL_RULES);
    await admin.call('ACL', 'SETUSER', 'operator', ...OPERATOR_ACL_RULES);
    const workerUrl = `redis://broker:s3cret-broker-pw@127.0.0.1:${redis.port}`;
    const operatorUrl = `redis://operator:s3cret-operator-pw@127.0.0.1:${redis.port}`;
    ({ app: worker, logger: workerLogs } = await bootBroker({ connection: { url: workerUrl }, keyPrefix: 'app:' }, [FailingWorker]));

    @Module({
      imports: [
        RedisBrokerModule.forRoot({ connection: { url: operatorUrl }, keyPrefix: 'app:', producerOnly: true }),
        RedisBrokerDashboardModule.register({ public: true }),
      ],
    })
    class OperatorDashboard {}
    dashboard = await NestFactory.create(OperatorDashboard, { logger: dashboardLogs });
    const port = await freePort();
    await dashboard.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}/broker/api`;
    cli = (...args) => runCli([...args, '--url', operatorUrl, '--prefix', 'app:']);
  }, 300_000); // builds the CLI: slow on a loaded machine

  afterAll(async () => {
    await dashboard?.close();
    await worker?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  async function aclLog(): Promise<string> {
    return JSON.stringify(await admin.call('ACL', 'LOG'));
  }

  const queueDead = (): Promise<number> => worker.get(QueueDeadLetterService).count('refused');
  const streamDead = (): Promise<number> => worker.get(StreamDeadLetterService).count('events', 'g');

  async function makeDeadLetters(n: number): Promise<void> {
    const client = worker.get(BrokerClient);
    const [queueBefore, streamBefore] = [await queueDead(), await streamDead()];
    for (let i = 0; i < n; i++) {
      await client.enqueue('refused', { i });
      await client.append('events', { i });
    }
    await waitFor(async () => (await queueDead()) === queueBefore + n && (await streamDead()) === streamBefore + n, { description: 'dead letters' });
  }

  async function post(path: string): Promise<unknown> {
    const response = await fetch(`${base}/${path}`, { method: 'POST', headers: action });
    expect(response.status).toBe(200);
    return response.json();
  }

  it('runs the worker as the worker user with no permission error, and records its names', async () => {
    await makeDeadLetters(2);
    expect(workerLogs.text()).not.toMatch(/NOPERM|registry/);
    expect(await admin.smembers('{app:}:registry:queues')).toEqual(['refused']);
    expect(await admin.smembers('{app:}:registry:streams')).toEqual(['events']);
  });

  it('serves every dashboard API route as the operator user', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const overview = (await (await fetch(`${base}/overview`)).json()) as DashboardOverview;
    expect(overview.queues).toEqual([expect.objectContaining({ queue: 'refused', dead: 2 })]);
    expect(overview.streams).toEqual([expect.objectContaining({ stream: 'events', groups: [expect.objectContaining({ group: 'g', dead: 2 })] })]);
    expect(overview.channels).toEqual([{ channel: 'news', subscribers: 1, sharded: false }]);

    const letters = (await (await fetch(`${base}/queues/refused/dead`)).json()) as QueueDeadLetter[];
    expect(await post(`queues/refused/dead/${letters[0].id}/requeue`)).toEqual({ requeued: 1 });
    await waitFor(async () => (await queueDead()) === 2, { description: 'the requeued message to die again' });
    expect(await post('queues/refused/dead/requeue-all')).toEqual({ requeued: 2 });
    await waitFor(async () => (await queueDead()) === 2, { description: 'the requeued messages to die again' });
    expect(await post('queues/refused/dead/purge')).toEqual({ purged: 2 });

    const entries = (await (await fetch(`${base}/streams/events/groups/g/dead`)).json()) as StreamDeadLetter[];
    expect(await post(`streams/events/groups/g/dead/${entries[0].id}/requeue`)).toEqual({ requeued: 1 });
    await waitFor(async () => (await streamDead()) === 2, { description: 'the requeued entry to die again' });
    expect(await post('streams/events/groups/g/dead/requeue-all')).toEqual({ requeued: 2 });
    await waitFor(async () => (await streamDead()) === 2, { description: 'the requeued entries to die again' });
    expect(await post('streams/events/groups/g/dead/purge')).toEqual({ purged: 2 });

    expect(await aclLog()).toBe('[]');
    expect(dashboardLogs.text()).not.toMatch(/NOPERM/);
  });

  it('runs every CLI command as the operator user', async () => {
    await makeDeadLetters(2);
    await admin.call('ACL', 'LOG', 'RESET');
    const ok = async (...args: string[]): Promise<string> => {
      const result = await cli(...args);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) as string });
      return result.stdout;
    };
    expect(await ok('status')).toMatch(/^refused\s+0\s+0\s+0\s+2\s+1$/m);
    await ok('status', 'refused', 'events', '--json');
    await ok('schedules', '--json');

    const [letter] = JSON.parse(await ok('dlq', 'list', 'refused', '--json')) as QueueDeadLetter[];
    await ok('dlq', 'show', 'refused', letter.id);
    await ok('dlq', 'requeue', 'refused', letter.id);
    await waitFor(async () => (await queueDead()) === 2, { description: 'the requeued message to die again' });
    await ok('dlq', 'requeue', 'refused', '--all');
    await waitFor(async () => (await queueDead()) === 2, { description: 'the requeued messages to die again' });
    expect(await ok('dlq', 'purge', 'refused', '--yes')).toContain('purged 2');

    const [entry] = JSON.parse(await ok('dlq', 'list', 'events', '--json')) as StreamDeadLetter[];
    await ok('dlq', 'show', 'events', entry.id);
    await ok('dlq', 'requeue', 'events', entry.id, '--group', 'g');
    await waitFor(async () => (await streamDead()) === 2, { description: 'the requeued entry to die again' });
    await ok('dlq', 'requeue', 'events', '--all');
    await waitFor(async () => (await streamDead()) === 2, { description: 'the requeued entries to die again' });
    expect(await ok('dlq', 'purge', 'events', '--yes', '--group', 'g')).toContain('purged 2');

    await ok('enqueue', 'refused', '{"i":9}');
    await ok('enqueue', 'refused', '{"i":10}', '--delay', '10');
    await ok('append', 'events', 'i=11');
    await waitFor(async () => (await queueDead()) === 2 && (await streamDead()) === 1, { description: 'the CLI messages to die' });
    expect(await ok('publish', 'news', 'hello')).toContain('published to 1');
    await waitFor(() => heard.includes('hello'), { description: 'the published message' });
    await ok('publish', 'prices', '1', '--sharded');

    await tail(['tail', 'events', '--count', '1'], 'following stream', () => worker.get(BrokerClient).append('events', { i: 12 }));
    await tail(['tail', 'news', '--count', '1'], 'subscribed to channel', () => worker.get(BrokerClient).publish('news', 'again'));
    await tail(['tail', 'prices', '--sharded', '--count', '1'], 'subscribed to sharded channel', () => worker.get(BrokerClient).publish('prices', '2', { sharded: true }));

    expect(await aclLog()).toBe('[]');
  }, 600_000);

  /** Runs `tail` as the operator until it printed one item, produced once it says it is following. */
  async function tail(args: string[], ready: string, produce: () => Promise<unknown>): Promise<void> {
    const child = spawnCli([...args, '--url', `redis://operator:s3cret-operator-pw@127.0.0.1:${redis.port}`, '--prefix', 'app:']);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await waitFor(() => stderr.includes(ready) || child.exitCode !== null, { description: `${args.join(' ')} to start` });
    await produce();
    expect({ args, code: await exited, stderr }).toEqual({ args, code: 0, stderr: expect.stringContaining(ready) as string });
    expect(stdout).not.toBe('');
  }
});
