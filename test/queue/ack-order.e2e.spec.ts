import { Injectable, type INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BrokerEvents, Ctx, Payload, QueueHandler, QueueKeys, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const CONSUMER = 'ack-order-consumer';
const COPIES = 3;
const DISTINCT = 100;
const TOTAL = COPIES * DISTINCT;

/** Successful runs per payload key, and failed first attempts. */
const handled = new Map<string, number>();
let failedFirst = 0;
/** Retries the broker scheduled for "ack-retried" (its 'retried' events). */
let retriedByBroker = 0;
let heldCalls = 0;
const gate = deferred();
/** A message every handler skips: it brings a consumer's model of its list back after the flush between tests. */
const WARM = JSON.stringify({ warm: true });
/** Runs of the shuffled handler in progress (described by their body), how often fewer copies were in the list, and a client to look. */
const runningCopies = new Set<symbol>();
let missingCopies = 0;
let probe: Redis | undefined;
const SHUFFLED_LIST = new QueueKeys('ack-shuffled', '').processing(CONSUMER);
/** Raw text of every message the decoding handler ran. */
const decoded: string[] = [];

function count(key: string): void {
  handled.set(key, (handled.get(key) ?? 0) + 1);
}

@Injectable()
class OutOfOrderHandlers {
  // Handlers finish out of fetch order, so acks cannot always take the tail of the processing list.
  @QueueHandler('ack-shuffled', { concurrency: 8, blockTimeoutMs: 100 })
  async shuffled(payload: { key: string; warm?: true }, context: QueueMessageContext): Promise<void> {
    if (payload.warm) return;
    const { raw } = context;
    const run = Symbol(raw);
    const first = ![...runningCopies].some((other) => other.description === raw);
    runningCopies.add(run);
    // The first copy of a body to start finishes last.
    await new Promise((resolve) => setTimeout(resolve, first ? 6 : Number(payload.key) % 3));
    // While it runs, its copy must be in the processing list (a crash now must not lose it). With equal
    // copies: at least as many as run from before the list is read until after.
    const before = [...runningCopies].filter((other) => other.description === raw);
    const inList = (await probe!.lrange(SHUFFLED_LIST, 0, -1)).filter((body) => body === raw).length;
    if (inList < before.filter((other) => runningCopies.has(other)).length) missingCopies += 1;
    runningCopies.delete(run);
    count(`s:${payload.key}`);
  }

  // Every seventh message fails once: its retry leaves the processing list from the middle.
  @QueueHandler('ack-retried', { concurrency: 8, blockTimeoutMs: 100, backoff: { type: 'fixed', delayMs: 5, jitter: false } })
  retried(@Payload() payload: { key: string; n: number; warm?: true }, @Ctx() context: QueueMessageContext): void {
    if (payload.warm) return;
    if (payload.n % 7 === 0 && context.attempt === 1) {
      failedFirst += 1;
      throw new Error('first attempt fails');
    }
    count(`r:${payload.key}`);
  }

  // Batches of up to 50: all-ASCII ones are decoded whole, others message by message.
  @QueueHandler('decode-mix', { concurrency: 50, blockTimeoutMs: 100 })
  decode(@Ctx() context: QueueMessageContext): void {
    if (context.raw !== WARM) decoded.push(context.raw);
  }

  // Four equal copies; the fourth call waits for the test.
  @QueueHandler('ack-held', { concurrency: 4, blockTimeoutMs: 100 })
  async held(@Ctx() context: QueueMessageContext): Promise<void> {
    if (context.raw === WARM) return;
    heldCalls += 1;
    if (heldCalls === 4) await gate.promise;
  }
}

describe('acks of a batch', () => {
  const ctx = useRedis();
  let app: INestApplicationContext;

  beforeAll(async () => {
    ({ app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: CONSUMER }, [OutOfOrderHandlers]));
    app.get(BrokerEvents).on('retried', (event) => {
      if (event.source === 'ack-retried') retriedByBroker += 1;
    });
    probe = ctx.plain;
  });

  afterAll(async () => {
    await app?.close();
  });

  // Equal bodies (three copies of each) make the count-matching of the ack script matter; multi-byte
  // text checks that acks sent as text carry the stored bytes.
  it('remove exactly the handled copies when handlers finish out of order', async () => {
    await warmUp('ack-shuffled');
    // Equal copies of two bodies interleaved (a b a b a b): they run at once, and a later copy of a body
    // often finishes before an earlier one, so acks take an older equal copy than their own.
    const bodies: string[] = [];
    const body = (key: number): string => JSON.stringify({ key: String(key), text: 'multi-byte: ü ✓ 😀' });
    for (let key = 0; key < DISTINCT; key += 2) {
      for (let copy = 0; copy < COPIES; copy += 1) bodies.push(body(key), body(key + 1));
    }
    await ctx.plain.lpush('ack-shuffled', ...bodies);
    await waitFor(() => total('s:') === TOTAL, { description: 'every shuffled message handled', timeoutMs: 20_000 });
    expect(missingCopies).toBe(0);
    await expectSettled('ack-shuffled', 's:');
  });

  it('remove exactly the handled copies when some leave the processing list for a retry', async () => {
    await warmUp('ack-retried');
    const bodies: string[] = [];
    for (let copy = 0; copy < COPIES; copy += 1) {
      for (let key = 0; key < DISTINCT; key += 1) bodies.push(JSON.stringify({ key: String(key), n: key }));
    }
    await ctx.plain.lpush('ack-retried', ...bodies);
    await waitFor(() => total('r:') === TOTAL, { description: 'every retried message handled', timeoutMs: 20_000 });
    // Every failed first attempt was scheduled again by the broker (not dropped, not dead-lettered).
    expect(failedFirst).toBeGreaterThan(0);
    expect(retriedByBroker).toBe(failedFirst);
    await expectSettled('ack-retried', 'r:');
  });

  it('leave the running copy of equal ones in the processing list', async () => {
    await warmUp('ack-held');
    const processing = new QueueKeys('ack-held', '').processing(CONSUMER);
    const body = JSON.stringify({ same: true });
    await ctx.plain.lpush('ack-held', body, body, body, body);
    await waitFor(() => heldCalls === 4, { description: 'four calls' });
    // Three copies acked, one running: only that one may stay, and it must (a crash now would lose it otherwise).
    await waitFor(async () => (await ctx.plain.llen(processing)) === 1, { description: 'three of four copies acked' });
    // Every ack sent before the next message's ack has landed; that one is cut beside the running copy too.
    await oneMoreMessageSettled('ack-held');
    expect(await ctx.plain.lrange(processing, 0, -1)).toEqual([body]);
    gate.resolve();
    await waitFor(async () => (await ctx.plain.llen(processing)) === 0, { description: 'the last copy acked' });
  });

  it('hands every message of ASCII, mixed and large batches to its handler as stored, and dead-letters invalid bytes among them', async () => {
    await warmUp('decode-mix');
    const ascii = Array.from({ length: 120 }, (_, i) => JSON.stringify({ i, kind: 'ascii' }));
    const mixed = Array.from({ length: 120 }, (_, i) => JSON.stringify({ i, kind: i % 3 === 0 ? 'multi-byte ü ✓ 😀' : 'mixed' }));
    // 40 × 10 KB in one fetch is over the 256 KB above which a batch's messages are copied apart.
    const large = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, kind: 'large', pad: 'x'.repeat(10_000) }));
    await ctx.plain.lpush('decode-mix', ...ascii);
    await waitFor(() => decoded.length === 120, { description: 'the ASCII messages' });
    await ctx.plain.lpush('decode-mix', ...mixed);
    await waitFor(() => decoded.length === 240, { description: 'the mixed messages' });
    await ctx.plain.lpush('decode-mix', ...large);
    await waitFor(() => decoded.length === 280, { description: 'the large messages' });
    const invalid = Buffer.from([0x7b, 0x80, 0x7d]);
    await ctx.plain.lpush('decode-mix', JSON.stringify({ before: true }), invalid, JSON.stringify({ after: true }));
    await waitFor(() => decoded.length === 282, { description: 'the neighbours of the invalid message' });
    expect(decoded).toEqual([...ascii, ...mixed, ...large, JSON.stringify({ before: true }), JSON.stringify({ after: true })]);
    const keys = new QueueKeys('decode-mix', '');
    await waitFor(async () => (await ctx.plain.llen(keys.processing(CONSUMER))) === 0, { description: 'every copy acked' });
    // The invalid message is dead-lettered with its exact bytes.
    expect(await ctx.plain.hvalsBuffer(keys.deadMessages)).toEqual([invalid]);
  });

  /**
   * The flush before each test wiped the consumers' lists and alive markers:
   * one message makes the consumer of `queue` read its list again, so the
   * test runs with acks cut by count (its model of the list exact).
   */
  async function warmUp(queue: string): Promise<void> {
    const keys = new QueueKeys(queue, '');
    await ctx.plain.lpush(queue, WARM);
    await waitFor(async () => (await ctx.plain.exists(keys.alive(CONSUMER))) === 1 && (await ctx.plain.llen(keys.processing(CONSUMER))) === 0, {
      description: `the consumer of ${queue} to read its list again`,
    });
  }

  /**
   * One more message (WARM, which every handler skips) is fetched and acked: it left the queue and the
   * processing list. The consumer went round its loop once more after what the test looked at: a fetch
   * (recovering its list first if it was marked for it) and an ack, on the connection earlier acks took.
   */
  async function oneMoreMessageSettled(queue: string): Promise<void> {
    const processing = new QueueKeys(queue, '').processing(CONSUMER);
    await ctx.plain.lpush(queue, WARM);
    await waitFor(async () => (await ctx.plain.lpos(queue, WARM)) === null && (await ctx.plain.lpos(processing, WARM)) === null, {
      description: `one more message of ${queue} fetched and acked`,
    });
  }

  function total(prefix: string): number {
    let sum = 0;
    for (const [key, n] of handled) if (key.startsWith(prefix)) sum += n;
    return sum;
  }

  /** Nothing is left in the processing list, and no copy runs a second time. */
  async function expectSettled(queue: string, prefix: string): Promise<void> {
    const processing = new QueueKeys(queue, '').processing(CONSUMER);
    await waitFor(async () => (await ctx.plain.llen(processing)) === 0, { description: `${processing} emptied` });
    // A copy left behind (or handed back) would be fetched, and run again, before the next message.
    await oneMoreMessageSettled(queue);
    expect(await ctx.plain.llen(queue)).toBe(0);
    for (let key = 0; key < DISTINCT; key += 1) expect(handled.get(`${prefix}${key}`)).toBe(COPIES);
  }
});
