import { Injectable, ValidationPipe } from '@nestjs/common';
import { IsString } from 'class-validator';
import {
  BrokerClient, BrokerEvents, Ctx, NonRetryableError, Payload, StreamConsumer,
  StreamDeadLetterService, type RetriedEvent, type StreamMessageContext,
} from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const deliveries: { orderId: string; count: number; requeued: boolean; at: number }[] = [];
let failOrders = true;
const validated: string[] = [];
const decoded: unknown[] = [];

class SignupDto {
  @IsString()
  email!: string;
}

@Injectable()
class OrderConsumer {
  @StreamConsumer({ stream: 'orders', group: 'billing', maxDeliveries: 3, backoff: { type: 'exponential', delayMs: 100, jitter: false }, reclaimIntervalMs: 50 })
  bill(@Payload('orderId') orderId: string, @Ctx() ctx: StreamMessageContext): void {
    deliveries.push({ orderId, count: ctx.deliveryCount, requeued: ctx.requeued, at: Date.now() });
    if (failOrders || orderId === 'always-bad') throw new Error(`payment gateway down for ${orderId}`);
  }

  @StreamConsumer({ stream: 'signups', group: 'mailer' })
  welcome(@Payload(new ValidationPipe()) dto: SignupDto): void {
    validated.push(dto.email);
  }

  @StreamConsumer({ stream: 'json-events', group: 'reader', parse: 'json-fields' })
  read(@Payload() fields: Record<string, unknown>): void {
    if (fields.kind === 'refuse') throw new NonRetryableError('refused on purpose');
    decoded.push(fields);
  }
}

describe('stream retries and dead letters', () => {
  const retried: RetriedEvent[] = [];

  const broker = useBrokerApp({ instanceId: 'billing-1' }, [OrderConsumer]);

  beforeAll(() => {
    broker.app.get(BrokerEvents).on('retried', (e) => retried.push(e));
  });

  it('redelivers a failing entry with growing backoff, then dead-letters it with reason and delivery count', async () => {
    const id = await broker.app.get(BrokerClient).append('orders', { orderId: 'o-1', amount: 30 });
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('orders', 'billing')) === 1, { description: 'the entry to be dead-lettered' });
    const runs = deliveries.filter((d) => d.orderId === 'o-1');
    expect(runs.map((d) => d.count)).toEqual([1, 2, 3]);
    // Backoff is measured from each failure: the second wait is the longer one.
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(100);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(200);
    expect(retried.map((e) => [e.attempt, e.delayMs])).toEqual([[1, 100], [2, 200]]);
    const [record] = await dead.list('orders', 'billing');
    expect(record).toMatchObject({
      originalId: id, stream: 'orders', group: 'billing', consumer: 'billing-1', reason: 'max-deliveries',
      error: 'payment gateway down for o-1', deliveries: 3, handler: 'OrderConsumer@bill', fields: { orderId: 'o-1', amount: '30' },
    });
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'orders', group: 'billing' }]);
    expect(stats).toMatchObject({ pending: 0, dead: 1 });
  });

  it('requeues a dead entry for its group alone, with a fresh delivery count', async () => {
    failOrders = false;
    const dead = broker.app.get(StreamDeadLetterService);
    const [record] = await dead.list('orders', 'billing');
    expect(await dead.requeue('orders', 'billing', record.id)).toBe(true);
    await waitFor(() => deliveries.some((d) => d.requeued), { description: 'the requeued entry to run' });
    expect(deliveries.find((d) => d.requeued)).toMatchObject({ orderId: 'o-1', count: 1 });
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'orders', group: 'billing' }]);
    expect(stats).toMatchObject({ pending: 0, dead: 0 });
    expect(await broker.plain.xlen('orders')).toBe(1);
    expect(await dead.requeue('orders', 'billing', record.id)).toBe(false);
  });

  it('requeues and purges every dead entry of a group', async () => {
    const client = broker.app.get(BrokerClient);
    await client.appendMany('orders', [{ orderId: 'always-bad' }, { orderId: 'always-bad' }]);
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('orders', 'billing')) === 2, { description: 'two dead entries' });
    expect(await dead.requeueAll('orders', 'billing')).toBe(2);
    await waitFor(async () => (await dead.count('orders', 'billing')) === 2, { description: 'them to die again' });
    expect(await dead.purge('orders', 'billing')).toBe(2);
    expect(await dead.count('orders', 'billing')).toBe(0);
  });

  it('dead-letters an entry that fails validation at once, without retries', async () => {
    await broker.plain.xadd('signups', '*', 'email', 'a@example.com');
    await broker.plain.xadd('signups', '*', 'name', 'no email');
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'signups', group: 'mailer' }]);
    expect(stats.dead).toBe(1);
    expect(validated).toEqual(['a@example.com']);
    const [record] = await broker.app.get(StreamDeadLetterService).list('signups', 'mailer');
    expect(record).toMatchObject({ reason: 'validation', deliveries: 1, fields: { name: 'no email' } });
    expect(record.error).toContain('email must be a string');
  });

  it('decodes JSON fields on request and dead-letters unparsable ones and NonRetryableError at once', async () => {
    await broker.plain.xadd('json-events', '*', 'kind', 'ok', 'data', '{"product":"abc"}', 'tags', '["a"]', 'count', '3');
    await broker.plain.xadd('json-events', '*', 'kind', 'broken', 'data', '{not json');
    await broker.plain.xadd('json-events', '*', 'kind', 'refuse');
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'json-events', group: 'reader' }]);
    expect(decoded).toEqual([{ kind: 'ok', data: { product: 'abc' }, tags: ['a'], count: '3' }]);
    expect(stats.dead).toBe(2);
    const reasons = (await broker.app.get(StreamDeadLetterService).list('json-events', 'reader')).map((r) => [r.reason, r.deliveries]);
    expect(reasons).toEqual([['non-retryable', 1], ['unparsable', 1]]);
  });
});
