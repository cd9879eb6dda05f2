import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { NonRetryableError, QueueHandler, StreamConsumer } from 'nest-redis-broker';
import { freePort, startRedisServer, waitFor, waitForQueuesIdle, waitForStreamGroupsIdle, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { buildCli, runCli, spawnCli } from '../support/cli.js';

/** The error object `--json` prints on stdout; it must be the only thing there. */
function jsonError(stdout: string): { kind: string; exitCode: number; message: string } {
  const parsed = JSON.parse(stdout) as { error: { kind: string; exitCode: number; message: string } };
  expect(Object.keys(parsed)).toEqual(['error']);
  return parsed.error;
}

@Injectable()
class FailingHandlers {
  @QueueHandler('invoices', { maxAttempts: 1 })
  invoice(payload: { id: number }): void {
    throw new NonRetryableError(`customer of invoice ${payload.id} is gone`);
  }

  @StreamConsumer({ stream: 'orders', group: 'billing', maxDeliveries: 1 })
  bill(fields: Record<string, string>): void {
    throw new Error(`cannot bill order ${fields.orderId}`);
  }
}

describe('the nest-redis-broker command-line tool (built binary, real Redis)', () => {
  let redis: RedisServerHandle;
  let plain: Redis;
  let subscriber: Redis;
  let url: string[];

  beforeAll(async () => {
    [redis] = await Promise.all([startRedisServer(), buildCli()]);
    url = ['--url', redis.url];
    plain = new Redis(redis.url);
    subscriber = new Redis(redis.url);
    // Dead letters made by a real broker app, then the app goes away: the CLI needs no running app.
    const { app } = await bootBroker({ connection: { url: redis.url } }, [FailingHandlers]);
    await plain.lpush('invoices', JSON.stringify({ id: 1 }), JSON.stringify({ id: 2 }));
    await plain.xadd('orders', '*', 'orderId', 'o-1');
    await waitForQueuesIdle(redis.url, ['invoices']);
    await waitForStreamGroupsIdle(redis.url, [{ stream: 'orders', group: 'billing' }]);
    await waitFor(async () => (await plain.xlen('{orders}:dead:billing')) === 1, { description: 'the order to be dead-lettered' });
    await (app).close();
    await subscriber.subscribe('alerts');
  });

  afterAll(async () => {
    subscriber?.disconnect();
    plain?.disconnect();
    await redis?.stop();
  });

  it('status lists queues, stream groups and channels with their counts, as a table and as JSON', async () => {
    const table = await runCli(['status', ...url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^invoices\s+0\s+0\s+0\s+2\s+0$/m);
    expect(table.stdout).toMatch(/^orders\s+1\s+billing\s+0\s+0\s+1\s+\d+\s+1$/m);
    expect(table.stdout).toMatch(/^alerts\s+1\s+plain$/m);

    const json = await runCli(['status', '--json', ...url]);
    expect(json.code).toBe(0);
    const overview = JSON.parse(json.stdout) as { queues: unknown[]; streams: { groups: unknown[] }[]; channels: unknown[] };
    expect(overview.queues).toEqual([expect.objectContaining({ queue: 'invoices', dead: 2, waiting: 0 })]);
    expect(overview.streams[0].groups).toEqual([expect.objectContaining({ group: 'billing', dead: 1, pending: 0 })]);
    expect(overview.channels).toEqual([{ channel: 'alerts', subscribers: 1, sharded: false }]);

    // A queue only a plain client wrote to is not in the broker's registry: it shows when named.
    await plain.lpush('uploads', '{"file":"a.png"}');
    const named = await runCli(['status', 'uploads', ...url]);
    expect(named.stdout).toMatch(/^uploads\s+1\s+0\s+0\s+0\s+0$/m);
  });

  it('status lists a queue that only has waiting messages and no consumer yet', async () => {
    const enqueued = await runCli(['enqueue', 'onlywaiting', '{}', ...url]);
    expect(enqueued.code).toBe(0);
    const status = await runCli(['status', ...url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^onlywaiting\s+1\s+0\s+0\s+0\s+0$/m);
  });

  it('lists, shows and requeues one dead message of a queue, and answers 3 for an unknown id', async () => {
    const list = await runCli(['dlq', 'list', 'invoices', '--json', ...url]);
    expect(list.code).toBe(0);
    const dead = JSON.parse(list.stdout) as { id: string; error: string; message: string }[];
    expect(dead.map((d) => d.message).sort()).toEqual(['{"id":1}', '{"id":2}']);
    const first = dead.find((d) => d.message === '{"id":1}')!;

    const show = await runCli(['dlq', 'show', 'invoices', first.id, ...url]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('error: customer of invoice 1 is gone');

    expect((await runCli(['dlq', 'requeue', 'invoices', first.id, ...url])).code).toBe(0);
    expect(await plain.lrange('invoices', 0, -1)).toEqual(['{"id":1}']);
    const again = await runCli(['dlq', 'requeue', 'invoices', first.id, ...url]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`no dead letter "${first.id}"`);
    expect((await runCli(['dlq', 'show', 'invoices', 'nope', ...url])).code).toBe(3);
  });

  it('purges a queue only with --yes', async () => {
    const refused = await runCli(['dlq', 'purge', 'invoices', ...url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await plain.zcard('{invoices}:dead')).toBe(1);

    const purged = await runCli(['dlq', 'purge', 'invoices', '--yes', '--json', ...url]);
    expect(purged.code).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 1 });
    expect(await plain.zcard('{invoices}:dead')).toBe(0);
  });

  it("lists and requeues a stream group's dead entries for that group", async () => {
    const list = await runCli(['dlq', 'list', 'orders', ...url]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/billing .*cannot bill order o-1/);

    const all = await runCli(['dlq', 'requeue', 'orders', '--all', '--group', 'billing', '--json', ...url]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({ requeued: 1 });
    expect(await plain.xlen('{orders}:requeue:billing')).toBe(1);
    expect(await plain.xlen('{orders}:dead:billing')).toBe(0);
    expect((await runCli(['dlq', 'list', 'orders', '--group', 'shipping', ...url])).code).toBe(3);
  });

  it('enqueue, append and publish write what a plain Redis client reads', async () => {
    const enqueued = await runCli(['enqueue', 'emails', '{"to":"ada@example.com"}', ...url]);
    expect(enqueued.code).toBe(0);
    const stored = JSON.parse((await plain.rpop('emails'))!) as { id: string; p: unknown };
    expect(stored.p).toEqual({ to: 'ada@example.com' });
    expect(enqueued.stdout.trim()).toBe(`enqueued ${stored.id} on emails`);

    const appended = await runCli(['append', 'user-events', 'userId=7', 'eventType=login', 'data=a=b', ...url]);
    expect(appended.code).toBe(0);
    const [[id, fields]] = await plain.xrange('user-events', '-', '+');
    expect(appended.stdout.trim()).toBe(id);
    expect(fields).toEqual(['userId', '7', 'eventType', 'login', 'data', 'a=b']);

    const received: string[] = [];
    subscriber.on('message', (channel: string, message: string) => received.push(`${channel}:${message}`));
    const published = await runCli(['publish', 'alerts', 'disk almost full', '--json', ...url]);
    expect(published.code).toBe(0);
    expect(JSON.parse(published.stdout)).toEqual({ channel: 'alerts', receivers: 1 });
    await waitFor(() => received.includes('alerts:disk almost full'), { description: 'the published message' });

    expect((await runCli(['enqueue', 'emails', '{not json', ...url])).code).toBe(2);
    expect((await runCli(['append', 'user-events', 'novalue', ...url])).code).toBe(2);
  });

  it('tail follows a stream from its end until Ctrl-C, then exits 0', async () => {
    await plain.xadd('clicks', '*', 'page', 'old');
    const tail = spawnCli(['tail', 'clicks', ...url]);
    let stdout = '';
    let stderr = '';
    tail.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    tail.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => tail.once('close', resolve));
    await waitFor(() => stderr.includes('following stream clicks'), { description: 'tail to start' });
    await plain.xadd('clicks', '*', 'page', 'home');
    await plain.xadd('clicks', '*', 'page', 'cart');
    await waitFor(() => stdout.includes('page=cart'), { description: 'tail to print the new entries' });
    tail.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).not.toContain('page=old');
    expect(stdout.trim().split('\n').map((line) => line.split(' ')[1])).toEqual(['page=home', 'page=cart']);
  });

  it('tail --count on a channel exits 0 after that many messages', async () => {
    const tail = spawnCli(['tail', 'news', '--count', '2', ...url]);
    let stdout = '';
    let stderr = '';
    tail.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    tail.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => tail.once('close', resolve));
    await waitFor(() => stderr.includes('subscribed to channel news'), { description: 'tail to subscribe' });
    for (const message of ['one', 'two', 'three']) await plain.publish('news', message);
    expect(await exited).toBe(0);
    expect(stdout).toBe('one\ntwo\n');
  });

  it('publishes to and tails a sharded channel', async () => {
    const tail = spawnCli(['tail', 'prices', '--sharded', '--count', '1', '--json', ...url]);
    let stdout = '';
    tail.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => tail.once('close', resolve));
    await waitFor(async () => ((await plain.call('PUBSUB', 'SHARDNUMSUB', 'prices')) as [string, number])[1] === 1, { description: 'tail to subscribe' });
    const published = await runCli(['publish', 'prices', '42', '--sharded', '--json', ...url]);
    expect(JSON.parse(published.stdout)).toEqual({ channel: 'prices', receivers: 1 });
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ channel: 'prices', message: '42' });
  });

  it('exits 1 with a clear message when Redis is unreachable, 2 on usage errors, 3 for a missing queue', async () => {
    const down = await runCli(['status', '--url', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot connect to redis://127.0.0.1:1: connect ECONNREFUSED');

    const badScheme = await runCli(['status', '--url', 'http://127.0.0.1:1']);
    expect(badScheme.code).toBe(2);
    expect((await runCli(['frobnicate', ...url])).code).toBe(2);
    expect((await runCli(['status', '--frob', ...url])).code).toBe(2);
    expect((await runCli(['dlq', 'list', 'bad name', ...url])).code).toBe(2);

    const missing = await runCli(['dlq', 'list', 'never-created', ...url]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no queue or stream named "never-created"');

    const fromEnv = await runCli(['status', '--json'], { REDIS_URL: redis.url });
    expect(fromEnv.code).toBe(0);
  });

  it('escapes control characters of payloads in human output, and prints them exactly with --json', async () => {
    // Retitles the terminal, clears the screen, and a C1 CSI (one character) that colours it.
    const hostile = 'a\u001b]0;pwned\u0007\u001b[2J\u009b31mb\r\nc';
    const escaped = 'a\\x1b]0;pwned\\x07\\x1b[2J\\x9b31mb\\r\\nc';
    // eslint-disable-next-line no-control-regex -- the raw characters the output must not hold
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

    const human = spawnCli(['tail', 'terminal', '--count', '1', ...url]);
    const json = spawnCli(['tail', 'terminal', '--count', '1', '--json', ...url]);
    const outputs = [human, json].map((child) => {
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      return { stdout: () => stdout, exited };
    });
    await waitFor(async () => ((await plain.call('PUBSUB', 'NUMSUB', 'terminal')) as [string, number])[1] === 2, { timeoutMs: 120_000, description: 'both tails to subscribe' });
    await plain.publish('terminal', hostile);
    expect(await outputs[0].exited).toBe(0);
    expect(await outputs[1].exited).toBe(0);
    expect(outputs[0].stdout()).toBe(`${escaped}\n`);
    expect(outputs[1].stdout()).not.toMatch(raw);
    expect(JSON.parse(outputs[1].stdout())).toEqual({ channel: 'terminal', message: hostile });

    // A stream entry's fields, followed by tail.
    await plain.xadd('hostile', '*', 'body', hostile);
    const tail = await runCli(['tail', 'hostile', '--from', '0', '--count', '1', ...url]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/^\d+-\d+ /);
    expect(tail.stdout.slice(tail.stdout.indexOf(' ') + 1)).toBe(`body=${escaped}\n`);
  }, 300_000);

  it('with --json, reports every error as one JSON object on stdout', async () => {
    const down = await runCli(['status', '--json', '--url', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(jsonError(down.stdout)).toMatchObject({ kind: 'failure', exitCode: 1 });
    expect(jsonError(down.stdout).message).toContain('cannot connect to redis://127.0.0.1:1');
    expect(down.stderr).toContain('cannot connect');

    const usage = await runCli(['status', '--json', '--frob', ...url]);
    expect(usage.code).toBe(2);
    expect(jsonError(usage.stdout)).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(jsonError(usage.stdout).message).toContain('--frob');

    const missing = await runCli(['dlq', 'list', 'never-created', '--json', ...url]);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toEqual({ error: { kind: 'not_found', exitCode: 3, message: 'no queue or stream named "never-created"' } });
  }, 300_000);
});

describe('the command-line tool and credentials', () => {
  const SECRET = 'topsecret-Pa55';
  let redis: RedisServerHandle;

  beforeAll(async () => {
    [redis] = await Promise.all([startRedisServer({ args: ['--user', 'admin', 'on', `>${SECRET}`, '~*', '&*', '+@all'] }), buildCli()]);
  }, 240_000);

  afterAll(async () => {
    await redis?.stop();
  });

  it('takes the URL from REDIS_URL, so a password stays out of argv; --url wins over it', async () => {
    const withPassword = `redis://admin:${SECRET}@127.0.0.1:${redis.port}`;
    const fromEnv = await runCli(['status', '--json'], { REDIS_URL: withPassword });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ queues: [] });

    const dead = `redis://127.0.0.1:${await freePort()}`;
    const urlWins = await runCli(['status', '--url', dead], { REDIS_URL: withPassword });
    expect(urlWins.code).toBe(1);
    expect(urlWins.stderr).toContain(`cannot connect to ${dead}`);
    expect((await runCli(['status', '--url', withPassword], { REDIS_URL: dead })).code).toBe(0);

    // An empty REDIS_URL counts as unset: the default URL, not a usage error.
    const empty = await runCli(['status', '--json'], { REDIS_URL: '' });
    expect(empty.code).not.toBe(2);
    expect(empty.stdout + empty.stderr).not.toContain('must start with');
  }, 300_000);

  it('never prints the password of a URL, wrong, refused or misspelt, from --url or REDIS_URL', async () => {
    const runs = [
      await runCli(['status'], { REDIS_URL: `redis://admin:${SECRET}-wrong@127.0.0.1:${redis.port}` }),
      await runCli(['status', '--json'], { REDIS_URL: `redis://admin:${SECRET}@127.0.0.1:${await freePort()}` }),
      await runCli(['status', '--url', `http://admin:${SECRET}@127.0.0.1:${redis.port}`]),
      await runCli(['status', '--json'], { REDIS_URL: `http://admin:${SECRET}@127.0.0.1:${redis.port}` }),
      await runCli(['status', '--url', `redis://:${SECRET}@x@127.0.0.1:notaport`]),
    ];
    expect(runs.map((r) => r.code)).toEqual([1, 1, 2, 2, 2]);
    expect(runs[2].stderr).toContain(`--url must start with redis:// or rediss://, got "http://admin:***@127.0.0.1:${redis.port}"`);
    expect(jsonError(runs[3].stdout)).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(jsonError(runs[3].stdout).message).toContain('REDIS_URL must start with');
    for (const run of runs) {
      expect(run.stdout + run.stderr).not.toContain(SECRET.slice(0, 9));
      expect(run.stdout + run.stderr).toMatch(/\*\*\*/);
    }
  }, 300_000);
});
