import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Ctx, Payload, QueueHandler, QueueKeys, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useRedis } from '../support/worker-pool.js';

const CONSUMER = 'ack-order-consumer';
const COPIES = 3;
const DISTINCT = 100;
const TOTAL = COPIES * DISTINCT;

/** Successful runs per payload key, and failed first attempts. */
const handled = new Map<string, number>();
let failedFirst = 0;
let heldCalls = 0;
const gate = deferred();

function count(key: string): void {
  handled.set(key, (handled.get(key) ?? 0) + 1);
}

@Injectable()
class OutOfOrderHandlers {
  // Handlers finish out of fetch order, so acks cannot always take the tail of the processing list.
  @QueueHandler('ack-shuffled', { concurrency: 8 })
  async shuffled(payload: { key: string; delayMs: number }): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, payload.delayMs));
    count(`s:${payload.key}`);
  }

  // Every seventh message fails once: its retry leaves the processing list from the middle.
  @QueueHandler('ack-retried', { concurrency: 8, backoff: { type: 'fixed', delayMs: 5, jitter: false } })
  retried(@Payload() payload: { key: string; n: number }, @Ctx() context: QueueMessageContext): void {
    if (payload.n % 7 === 0 && context.attempt === 1) {
      failedFirst += 1;
      throw new Error('first attempt fails');
    }
    count(`r:${payload.key}`);
  }

  // Four equal copies; the fourth call waits for the test.
  @QueueHandler('ack-held', { concurrency: 4 })
  async held(): Promise<void> {
    heldCalls += 1;
    if (heldCalls === 4) await gate.promise;
  }
}

describe('acks of a batch', () => {
  const ctx = useRedis();
  let app: INestApplicationContext;

  beforeAll(async () => {
    ({ app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: CONSUMER }, [OutOfOrderHandlers]));
  });

  afterAll(async () => {
    await app?.close();
  });

  // Equal bodies (three copies of each) make the count-matching of the ack script matter; multi-byte
  // text checks that acks sent as text carry the stored bytes.
  it('remove exactly the handled copies when handlers finish out of order', async () => {
    const bodies: string[] = [];
    for (let copy = 0; copy < COPIES; copy += 1) {
      for (let key = 0; key < DISTINCT; key += 1) bodies.push(JSON.stringify({ key: String(key), delayMs: (key * 7) % 5, text: 'multi-byte: ü ✓ 😀' }));
    }
    await ctx.plain.lpush('ack-shuffled', ...bodies);
    await waitFor(() => total('s:') === TOTAL, { description: 'every shuffled message handled', timeoutMs: 20_000 });
    await expectSettled('ack-shuffled', 's:');
  });

  it('remove exactly the handled copies when some leave the processing list for a retry', async () => {
    const bodies: string[] = [];
    for (let copy = 0; copy < COPIES; copy += 1) {
      for (let key = 0; key < DISTINCT; key += 1) bodies.push(JSON.stringify({ key: String(key), n: key }));
    }
    await ctx.plain.lpush('ack-retried', ...bodies);
    await waitFor(() => total('r:') === TOTAL, { description: 'every retried message handled', timeoutMs: 5_000 });
    expect(failedFirst).toBeGreaterThan(0);
    await expectSettled('ack-retried', 'r:');
  });

  it('leave the running copy of equal ones in the processing list', async () => {
    const processing = new QueueKeys('ack-held', '').processing(CONSUMER);
    const body = JSON.stringify({ same: true });
    await ctx.plain.lpush('ack-held', body, body, body, body);
    await waitFor(() => heldCalls === 4, { description: 'four calls' });
    // Three copies acked, one running: only that one may stay, and it must (a crash now would lose it otherwise).
    await waitFor(async () => (await ctx.plain.llen(processing)) === 1, { description: 'three of four copies acked' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await ctx.plain.lrange(processing, 0, -1)).toEqual([body]);
    gate.resolve();
    await waitFor(async () => (await ctx.plain.llen(processing)) === 0, { description: 'the last copy acked' });
  });

  function total(prefix: string): number {
    let sum = 0;
    for (const [key, n] of handled) if (key.startsWith(prefix)) sum += n;
    return sum;
  }

  /** Nothing is left in the processing list, and no copy runs a second time. */
  async function expectSettled(queue: string, prefix: string): Promise<void> {
    const processing = new QueueKeys(queue, '').processing(CONSUMER);
    await waitFor(async () => (await ctx.plain.llen(processing)) === 0, { description: `${processing} emptied` });
    // A copy left behind would be recovered and run again: give it the time to show.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await ctx.plain.llen(queue)).toBe(0);
    expect(total(prefix)).toBe(TOTAL);
    for (let key = 0; key < DISTINCT; key += 1) expect(handled.get(`${prefix}${key}`)).toBe(COPIES);
  }
});
