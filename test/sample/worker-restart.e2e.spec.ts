import { Redis } from 'ioredis';
import { QueueKeys } from 'nest-redis-broker';
import { startRedisServer, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnFixture, type FixtureProcess } from '../support/processes.js';
import { bootApi, http, sampleConfig, type RunningApp } from '../support/timeline-apps.js';

interface User { id: number }

describe('timeline sample: the worker is a separate process that may die', () => {
  let redis: RedisServerHandle;
  let plain: Redis;
  let api: RunningApp;
  let cleanup: () => void;
  const workers: FixtureProcess[] = [];

  const startWorker = (id: string): FixtureProcess => {
    const worker = spawnFixture('timeline-worker', { REDIS_URL: redis.url, PORT: '0', WORKER_ID: id, CONSUMER_TTL_MS: '1500', HEARTBEAT_MS: '300' }, 'timeline-worker ready');
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    const sample = sampleConfig(redis.url);
    cleanup = sample.cleanup;
    api = await bootApi(sample.config);
  });

  afterAll(async () => {
    for (const worker of workers) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await api?.app.close();
    plain?.disconnect();
    await redis?.stop();
    cleanup?.();
  });

  it('delivers every fan-out when the worker is SIGKILLed while posts are created and a new one starts', async () => {
    const create = async (name: string) => (await http<User>(api.url, 'POST', '/users', { name })).body;
    const author = await create('author');
    const followers: User[] = [];
    for (let i = 0; i < 5; i++) {
      const follower = await create(`follower${i}`);
      expect((await http(api.url, 'POST', `/users/${follower.id}/follows/${author.id}`)).status).toBe(200);
      expect((await http(api.url, 'GET', `/users/${follower.id}/timeline`)).status).toBe(200);
      followers.push(follower);
    }

    const first = startWorker('worker-1');
    await first.ready;
    const postIds: number[] = [];
    const post = async (i: number) => {
      const response = await http<{ id: number }>(api.url, 'POST', `/users/${author.id}/posts`, { body: `post ${i}` });
      expect(response.status).toBe(201);
      postIds.push(response.body.id);
    };
    for (let i = 0; i < 10; i++) await post(i);
    first.child.kill('SIGKILL');
    await first.exited;
    for (let i = 10; i < 30; i++) await post(i);

    const second = startWorker('worker-2');
    await second.ready;
    await waitForQueuesIdle(redis.url, ['timeline-fanout'], { timeoutMs: 30_000 });
    for (const follower of followers) {
      const cached = (await plain.lrange(`timeline:${follower.id}`, 0, -1)).filter((v) => v !== '-').map(Number);
      expect(new Set(cached)).toEqual(new Set(postIds));
    }
    const page = await http<{ source: string; posts: { id: number }[] }>(api.url, 'GET', `/users/${followers[0].id}/timeline?limit=30`);
    expect(page.body.source).toBe('cache');
    expect(page.body.posts.map((p) => p.id).sort((a, b) => a - b)).toEqual([...postIds].sort((a, b) => a - b));
  });

  it('stops the worker gracefully on SIGTERM: its consumer leaves the queue instead of waiting to be reaped', async () => {
    const keys = new QueueKeys('timeline-fanout', '');
    expect(await plain.zscore(keys.consumers, 'worker-2')).not.toBeNull();
    const worker = workers.at(-1)!;
    worker.child.kill('SIGTERM');
    // Nest re-raises the signal once its shutdown hooks have run.
    expect(await worker.exited).toBe('SIGTERM');
    expect(await plain.zscore(keys.consumers, 'worker-2')).toBeNull();
  });
});
