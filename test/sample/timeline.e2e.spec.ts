import { Redis } from 'ioredis';
import { startRedisServer, waitFor, waitForQueuesIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApi, bootWorker, http, metricSample, metricValue, sampleConfig, type RunningApp } from '../support/timeline-apps.js';

interface User { id: number; name: string }
interface Post { id: number; authorId: number; body: string }
interface Page { source: string; posts: Post[] }

function sorted(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

describe('timeline sample: API and worker over HTTP on real Redis', () => {
  let redis: RedisServerHandle;
  let plain: Redis;
  let api: RunningApp;
  let worker: RunningApp;
  let cleanup: () => void;
  const users: Record<string, User> = {};
  let postsCreated = 0;

  const call = <T>(method: string, path: string, body?: unknown) => http<T>(api.url, method, path, body);
  const cachedIds = async (user: User) => (await plain.lrange(`timeline:${user.id}`, 0, -1)).filter((v) => v !== '-').map(Number);
  const post = async (author: User, body: string): Promise<Post> => {
    const response = await call<Post>('POST', `/users/${author.id}/posts`, { body });
    expect(response.status).toBe(201);
    postsCreated += 1;
    return response.body;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    plain.on('error', () => undefined);
    const sample = sampleConfig(redis.url);
    cleanup = sample.cleanup;
    api = await bootApi(sample.config);
    worker = await bootWorker(sample.config);
    for (const name of ['alice', 'bob', 'carol']) {
      const response = await call<User>('POST', '/users', { name });
      expect(response.status).toBe(201);
      users[name] = response.body;
    }
  });

  afterAll(async () => {
    await worker?.app.close();
    await api?.app.close();
    plain?.disconnect();
    await redis?.stop();
    cleanup?.();
  });

  it('appends a new post with RPUSHX to the cached timeline of a follower, and creates no cache for a user never read', async () => {
    const { alice, bob, carol } = users;
    expect((await call('POST', `/users/${carol.id}/follows/${bob.id}`)).status).toBe(200);
    expect((await call('POST', `/users/${alice.id}/follows/${bob.id}`)).status).toBe(200);
    const first = await call<Page>('GET', `/users/${alice.id}/timeline`);
    expect(first.body).toMatchObject({ source: 'database', posts: [] });
    expect(await plain.exists(`timeline:${alice.id}`)).toBe(1);
    expect(await plain.ttl(`timeline:${alice.id}`)).toBeGreaterThan(0);

    const created = await post(bob, 'hello from bob');
    await waitFor(async () => (await cachedIds(alice)).includes(created.id), { description: "bob's post in alice's cached timeline" });
    expect(await plain.exists(`timeline:${carol.id}`)).toBe(0);

    const second = await call<Page>('GET', `/users/${alice.id}/timeline`);
    expect(second.body.source).toBe('cache');
    expect(second.body.posts.map((p) => p.body)).toEqual(['hello from bob']);
  });

  it('reads a cached timeline newest first, in pages', async () => {
    const { alice, bob } = users;
    const more = [await post(bob, 'second'), await post(bob, 'third')];
    await waitFor(async () => (await cachedIds(alice)).includes(more[1].id), { description: 'the third post in the cache' });
    const page = await call<Page>('GET', `/users/${alice.id}/timeline?offset=1&limit=1`);
    expect(page.body).toMatchObject({ source: 'cache', posts: [{ body: 'second' }] });
  });

  it("drops the follower's cached timeline on unfollow, so the next read comes from the database without the author", async () => {
    const { alice, bob } = users;
    expect((await call('DELETE', `/users/${alice.id}/follows/${bob.id}`)).status).toBe(200);
    await waitFor(async () => (await plain.exists(`timeline:${alice.id}`)) === 0, { description: "alice's cache to be dropped" });
    const page = await call<Page>('GET', `/users/${alice.id}/timeline`);
    expect(page.body).toMatchObject({ source: 'database', posts: [] });
  });

  it('counts logins, posts and follows appended to the user-events stream in the worker\'s analytics group', async () => {
    const { alice } = users;
    expect((await call('POST', `/users/${alice.id}/login`)).status).toBe(200);
    const expected = { follow: 2, unfollow: 1, post: 3, login: 1 };
    await waitFor(async () => JSON.stringify(sorted((await call<{ events: Record<string, number> }>('GET', '/stats')).body.events)) === JSON.stringify(sorted(expected)), {
      description: 'analytics to count every event',
    });
    const stats = await call<{ activeUsers: number; knownUsers: number }>('GET', '/stats');
    expect(stats.body).toMatchObject({ activeUsers: 3, knownUsers: 3 });
    await waitFor(async () => {
      const text = (await http<string>(worker.url, 'GET', '/metrics')).text;
      return metricValue(text, 'nrb_messages_handled_total', { kind: 'stream', source: 'user-events/analytics', handler: 'AnalyticsConsumer@track' }) === 7;
    }, { description: 'the stream handler count in /metrics' });
    const apiMetrics = (await http<string>(api.url, 'GET', '/metrics')).text;
    expect(metricValue(apiMetrics, 'nrb_stream_length', { stream: 'user-events' })).toBe(7);
    expect(metricValue(apiMetrics, 'nrb_stream_lag', { stream: 'user-events', group: 'analytics' })).toBe(0);
    expect(metricValue(apiMetrics, 'nrb_stream_pending', { stream: 'user-events', group: 'analytics' })).toBe(0);
  });

  it('loses no post when every Redis key is deleted: the timeline is rebuilt from the database', async () => {
    const { carol } = users;
    await plain.flushall();
    const page = await call<Page>('GET', `/users/${carol.id}/timeline`);
    expect(page.body.source).toBe('database');
    expect(page.body.posts.map((p) => p.body)).toEqual(['third', 'second', 'hello from bob']);
  });

  it("relays a new post to a follower's open server-sent event stream, published by the worker on the follower's channel", async () => {
    const { bob, carol } = users;
    const abort = new AbortController();
    const response = await fetch(`${api.url}/users/${carol.id}/notifications`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (done: (text: string) => boolean): Promise<void> => {
      while (!done(received)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended: ${received}`);
        received += decoder.decode(chunk.value, { stream: true });
      }
    };
    try {
      await readUntil((text) => text.includes('event: ready'));
      const live = await post(bob, 'live');
      await readUntil((text) => text.includes(`"postId":${live.id}`));
      expect(received).toContain('event: post');
      expect(received).toContain(`"authorId":${bob.id}`);
    } finally {
      abort.abort();
    }
  });

  it('reports handled fan-out messages in /metrics that match the messages sent, and an empty queue', async () => {
    await waitForQueuesIdle(redis.url, ['timeline-fanout']);
    const labels = { kind: 'queue', source: 'timeline-fanout', handler: 'FanoutHandler@fanout' };
    // The worker counts a message once its ack's reply is read, a moment after Redis shows the queue settled.
    let workerMetrics = '';
    await waitFor(async () => {
      workerMetrics = (await http<string>(worker.url, 'GET', '/metrics')).text;
      return (metricSample(workerMetrics, 'nrb_messages_handled_total', labels) ?? 0) >= postsCreated;
    }, { description: 'the worker to count every fan-out message' });
    expect(metricValue(workerMetrics, 'nrb_messages_handled_total', labels)).toBe(postsCreated);
    // A labelled counter has no sample until its first increment: the family is there, no failure of this handler is.
    expect(workerMetrics).toContain('# TYPE nrb_messages_failed_total counter');
    expect(metricSample(workerMetrics, 'nrb_messages_failed_total', labels)).toBeUndefined();
    expect(metricValue(workerMetrics, 'nrb_handler_duration_seconds_count', { ...labels, outcome: 'handled' })).toBe(postsCreated);
    expect(workerMetrics).toContain('process_cpu_user_seconds_total');
    const apiMetrics = (await http<string>(api.url, 'GET', '/metrics')).text;
    expect(apiMetrics).toContain('nrb_queue_waiting{queue="timeline-fanout"} 0');
    expect(apiMetrics).toContain('nrb_queue_dead_letters{queue="timeline-fanout"} 0');
  });

  it('answers /health/live and /health/ready, turns not ready while Redis is down and ready again once it is back', async () => {
    for (const app of [api, worker]) {
      expect((await http(app.url, 'GET', '/health/live')).status).toBe(200);
      await waitFor(async () => (await http(app.url, 'GET', '/health/ready')).status === 200, { timeoutMs: 15_000, description: 'ready before Redis stops (a consumer recovers from FLUSHALL first)' });
    }
    await redis.kill();
    for (const app of [api, worker]) {
      await waitFor(async () => (await http(app.url, 'GET', '/health/ready')).status === 503, { description: 'not ready without Redis' });
      expect((await http(app.url, 'GET', '/health/live')).status).toBe(200);
    }
    await redis.start();
    for (const app of [api, worker]) {
      await waitFor(async () => (await http(app.url, 'GET', '/health/ready')).status === 200, { timeoutMs: 30_000, description: 'ready again' });
    }
    // The fan-out consumer fetches again: a new post is consumed.
    await post(users.bob, 'after the restart');
    await waitForQueuesIdle(redis.url, ['timeline-fanout'], { timeoutMs: 30_000 });
  });
});
