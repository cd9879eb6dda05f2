import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { BrokerClient, Ctx, Payload, QueueHandler, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const received: { payload: unknown; ctx: QueueMessageContext }[] = [];

@Injectable()
class UserEventsHandler {
  @QueueHandler('user-signups')
  handle(@Payload() payload: unknown, @Ctx() ctx: QueueMessageContext): void {
    received.push({ payload, ctx });
  }
}

describe('list queues on the plain Redis wire format', () => {
  const broker = useBrokerApp({ instanceId: 'wire-consumer' }, [UserEventsHandler]);

  it('delivers a JSON string LPUSHed by a plain client to the decorated handler', async () => {
    const pushedAt = Date.now();
    await broker.plain.lpush('user-signups', JSON.stringify({ userId: 'u1', plan: 'pro' }));
    await waitFor(() => received.length === 1, { description: 'the handler to run' });
    const handledBy = Date.now();
    expect(received[0].payload).toEqual({ userId: 'u1', plan: 'pro' });
    expect(received[0].ctx.queue).toBe('user-signups');
    expect(received[0].ctx.attempt).toBe(1);
    expect(received[0].ctx.raw).toBe('{"userId":"u1","plan":"pro"}');
    // The id is the sha1 of the stored text, the consumer is this app's instanceId, receivedAt falls in the test's window.
    const sha1 = createHash('sha1').update('{"userId":"u1","plan":"pro"}').digest('hex');
    expect(received[0].ctx.id).toBe(sha1);
    expect(received[0].ctx.consumer).toBe('wire-consumer');
    expect(received[0].ctx.receivedAt).toBeGreaterThanOrEqual(pushedAt);
    expect(received[0].ctx.receivedAt).toBeLessThanOrEqual(handledBy);
    // A plain message has no enqueue time and no headers.
    expect(received[0].ctx.enqueuedAt).toBeUndefined();
    expect(received[0].ctx.headers).toEqual({});
    // A context logs as its fields (the id is derived on demand, not stored).
    expect(JSON.parse(JSON.stringify(received[0].ctx))).toEqual({
      id: sha1, queue: 'user-signups', attempt: 1, raw: '{"userId":"u1","plan":"pro"}',
      consumer: 'wire-consumer', receivedAt: received[0].ctx.receivedAt, headers: {},
    });
    expect(await broker.plain.llen('user-signups')).toBe(0);
  });

  it('writes enqueued payloads as a JSON envelope a plain BRPOP client reads: the payload JSON under "p"', async () => {
    const client = broker.app.get(BrokerClient);
    const before = Date.now();
    const id = await client.enqueue('reports', { reportId: 42, tags: ['a', 'b'] });
    const popped = await broker.plain.brpop('reports', 1);
    const t = (JSON.parse(popped![1]) as { t: number }).t;
    expect(t).toBeGreaterThanOrEqual(before);
    expect(popped).toEqual(['reports', `{"__nrb":1,"id":"${id}","t":${t},"p":{"reportId":42,"tags":["a","b"]}}`]);
  });

  it('keeps order across enqueueMany: the first payload is consumed first', async () => {
    const client = broker.app.get(BrokerClient);
    await client.enqueueMany('ordered', [1, 2, 3]);
    const popped = (await broker.plain.rpop('ordered', 3))!.map((text) => (JSON.parse(text) as { p: unknown }).p);
    expect(popped).toEqual([1, 2, 3]);
  });
});
