import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Injectable, ParseIntPipe } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, BrokerEvents, ChannelMessageContext, Ctx, OnChannel, Payload, type FailedEvent } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const run = promisify(execFile);

interface Received {
  payload: unknown;
  ctx: ChannelMessageContext;
}

const hello: Received[] = [];
const helloAgain: Received[] = [];
const userEvents: Received[] = [];
const orders: Received[] = [];
const flaky: unknown[] = [];
const steady: unknown[] = [];
const counts: number[] = [];

@Injectable()
class GreetingListener {
  @OnChannel('hello')
  onHello(@Payload() payload: unknown, @Ctx() ctx: ChannelMessageContext): void {
    hello.push({ payload, ctx });
  }

  @OnChannel({ pattern: 'user.*' })
  onUserEvent(payload: unknown, ctx: ChannelMessageContext): void {
    userEvents.push({ payload, ctx });
  }

  @OnChannel({ channel: 'orders', sharded: true })
  onOrder(payload: unknown, ctx: ChannelMessageContext): void {
    orders.push({ payload, ctx });
  }

  @OnChannel('counts')
  onCount(@Payload('n', ParseIntPipe) n: number): void {
    counts.push(n);
  }
}

@Injectable()
class SecondGreetingListener {
  @OnChannel('hello')
  async onHello(payload: unknown, ctx: ChannelMessageContext): Promise<void> {
    await Promise.resolve();
    helloAgain.push({ payload, ctx });
  }
}

@Injectable()
class FlakyListeners {
  @OnChannel('jobs')
  failsOnBoom(payload: unknown): void {
    if (payload === 'boom') throw new Error('handler exploded');
    flaky.push(payload);
  }

  @OnChannel('jobs')
  neverFails(payload: unknown): void {
    steady.push(payload);
  }
}

describe('@OnChannel listeners', () => {
  const failures: FailedEvent[] = [];

  const broker = useBrokerApp({}, [GreetingListener, SecondGreetingListener, FlakyListeners]);

  beforeAll(() => {
    broker.app.get(BrokerEvents).on('failed', (event) => failures.push(event));
  });

  it('delivers `redis-cli PUBLISH hello world` to an @OnChannel("hello") handler as the string "world"', async () => {
    const { stdout } = await run('redis-cli', ['-p', String(broker.redis.port), 'PUBLISH', 'hello', 'world']);
    await waitFor(() => hello.length === 1, { description: 'the hello handler to run' });
    expect(hello[0].payload).toBe('world');
    expect(hello[0].ctx.channel).toBe('hello');
    expect(hello[0].ctx.pattern).toBeUndefined();
    expect(hello[0].ctx.sharded).toBe(false);
    expect(hello[0].ctx.raw).toBe('world');
    expect(typeof hello[0].ctx.receivedAt).toBe('number');
    // Two handlers listen to "hello", on one connection: Redis counts one receiver.
    expect(stdout.trim()).toBe('1');
  });

  it('gives each of two handlers of one channel each message exactly once, over a single subscription', async () => {
    hello.length = 0;
    helloAgain.length = 0;
    for (let i = 0; i < 20; i += 1) await broker.plain.publish('hello', JSON.stringify({ i }));
    await waitFor(() => hello.length === 20 && helloAgain.length === 20, { description: 'both handlers to get 20 messages' });
    expect(hello.map((r) => r.payload)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(helloAgain.map((r) => r.payload)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(await broker.plain.pubsub('NUMSUB', 'hello')).toEqual(['hello', 1]);
    const clients = (await broker.plain.client('LIST')) as string;
    const subscriber = clients.split('\n').find((line) => line.includes('name=nrb:subscriber:channels '));
    // hello, counts, jobs: each channel once, however many handlers; the pattern once.
    expect(subscriber).toMatch(/ sub=3 psub=1 /);
  });

  it('delivers a PUBLISH on user.login to the pattern handler with the pattern and the channel in its context', async () => {
    await broker.plain.publish('user.login', 'x');
    await waitFor(() => userEvents.length === 1, { description: 'the pattern handler to run' });
    expect(userEvents[0].payload).toBe('x');
    expect(userEvents[0].ctx.pattern).toBe('user.*');
    expect(userEvents[0].ctx.channel).toBe('user.login');
  });

  it('resolves publish() to the number of subscribers that received the message', async () => {
    const client = broker.app.get(BrokerClient);
    expect(await client.publish('nobody-listens', 'hi')).toBe(0);
    const extra = new Redis(broker.redis.url);
    try {
      await extra.subscribe('user.logout');
      // The broker's pattern subscription plus the extra plain subscriber.
      expect(await client.publish('user.logout', { userId: 'u1' })).toBe(2);
    } finally {
      extra.disconnect();
    }
    await waitFor(() => userEvents.some((r) => r.ctx.channel === 'user.logout'), { description: 'the logout event' });
    expect(userEvents.find((r) => r.ctx.channel === 'user.logout')?.payload).toEqual({ userId: 'u1' });
  });

  it('publishes strings as they are and other values as JSON', async () => {
    const extra = new Redis(broker.redis.url);
    const seen: string[] = [];
    try {
      extra.on('message', (_channel: string, message: string) => seen.push(message));
      await extra.subscribe('wire');
      const client = broker.app.get(BrokerClient);
      await client.publish('wire', 'plain text');
      await client.publish('wire', { a: [1, 2] });
      await client.publish('wire', 42);
      await waitFor(() => seen.length === 3, { description: 'three messages on the plain subscriber' });
      expect(seen).toEqual(['plain text', '{"a":[1,2]}', '42']);
    } finally {
      extra.disconnect();
    }
  });

  it('publishMany() sends every message in order in one pipeline, encoded as publish() does, and refuses an unencodable batch whole', async () => {
    const extra = new Redis(broker.redis.url);
    const seen: string[] = [];
    try {
      extra.on('message', (_channel: string, message: string) => seen.push(message));
      await extra.subscribe('many');
      const client = broker.app.get(BrokerClient);
      const batch = Array.from({ length: 2_500 }, (_, i) => (i % 2 === 0 ? { i } : `text ${i}`));
      const receivers = await client.publishMany('many', batch);
      expect(receivers).toHaveLength(2_500);
      expect(new Set(receivers)).toEqual(new Set([1]));
      await waitFor(() => seen.length === 2_500, { description: '2,500 messages on the plain subscriber' });
      expect(seen).toEqual(batch.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))));
      await expect(client.publishMany('many', ['fine', undefined])).rejects.toThrow(/Cannot publish undefined/);
      await expect(client.publishMany('many', ['fine'], { sharded: 'yes' } as never)).rejects.toThrow(/publish\.sharded/);
      expect(await client.publishMany('many', [])).toEqual([]);
      await client.publish('many', 'marker');
      await waitFor(() => seen.length === 2_501, { description: 'the marker' });
      // Nothing of the refused batches went out: the marker follows the first batch directly.
      expect(seen.at(-1)).toBe('marker');
    } finally {
      extra.disconnect();
    }
  });

  it('delivers SPUBLISH and publish(..., { sharded: true }) to a sharded listener with sharded in its context', async () => {
    expect(await broker.plain.spublish('orders', '{"id":1}')).toBe(1);
    expect(await broker.app.get(BrokerClient).publish('orders', { id: 2 }, { sharded: true })).toBe(1);
    expect(await broker.app.get(BrokerClient).publishMany('orders', [{ id: 3 }, { id: 4 }], { sharded: true })).toEqual([1, 1]);
    await waitFor(() => orders.length === 4, { description: 'four sharded messages' });
    expect(orders.map((r) => r.payload)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    expect(orders[0].ctx.sharded).toBe(true);
    expect(orders[0].ctx.channel).toBe('orders');
  });

  it('runs parameter pipes on channel messages', async () => {
    await broker.plain.publish('counts', JSON.stringify({ n: '41' }));
    await waitFor(() => counts.length === 1, { description: 'the pipe-transformed payload' });
    expect(counts).toEqual([41]);
  });

  it('keeps delivering to a handler and its neighbour after the handler throws, and logs the error', async () => {
    await broker.plain.publish('jobs', 'first');
    await broker.plain.publish('jobs', 'boom');
    await broker.plain.publish('jobs', 'after');
    await waitFor(() => flaky.length === 2 && steady.length === 3, { description: 'both handlers to see the messages after the error' });
    expect(flaky).toEqual(['first', 'after']);
    expect(steady).toEqual(['first', 'boom', 'after']);
    expect(failures).toEqual([expect.objectContaining({ kind: 'channel', handler: 'FlakyListeners@failsOnBoom', error: 'handler exploded' })]);
    expect(broker.logger.text()).toMatch(/FlakyListeners@failsOnBoom failed on a message of channel "jobs": handler exploded/);
  });
});
