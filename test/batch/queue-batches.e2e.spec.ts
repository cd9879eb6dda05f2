import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, UseInterceptors } from '@nestjs/common';
import {
  BatchResult, BrokerClient, BrokerEvents, Ctx, NonRetryableError, Payload, QueueBatchContext, QueueDeadLetterService, QueueHandler,
  RequestFailedError, type FailedEvent, type HandledEvent,
} from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import type { Observable } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

interface Item { n: number; fail?: boolean }

/** Each batch a handler got, by queue: the payloads' numbers. */
const batches = new Map<string, number[][]>();
/** Each run of an item, by queue: `n` → attempts seen. */
const attempts = new Map<string, Map<number, number[]>>();
const contexts: QueueBatchContext[] = [];
const intercepted: number[] = [];
let aborted: unknown;

function record(queue: string, items: Item[], ctx: QueueBatchContext): void {
  batches.set(queue, [...(batches.get(queue) ?? []), items.map((i) => i.n)]);
  const seen = attempts.get(queue) ?? new Map<number, number[]>();
  items.forEach((item, i) => seen.set(item.n, [...(seen.get(item.n) ?? []), ctx.messages[i].attempt]));
  attempts.set(queue, seen);
}

/** Counts the batches going through Nest's pipeline. */
@Injectable()
class CountingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    intercepted.push(context.switchToRpc().getData<unknown[]>().length);
    return next.handle();
  }
}

@Injectable()
class BatchHandlers {
  @QueueHandler('backlog', { batch: { size: 10, maxWaitMs: 50 } })
  backlog(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): void {
    contexts.push(ctx);
    record('backlog', items, ctx);
  }

  @QueueHandler('partial', { batch: { size: 5, maxWaitMs: 50 }, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  partial(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): BatchResult {
    record('partial', items, ctx);
    const result = new BatchResult();
    items.forEach((item, i) => item.fail && result.fail(i, new Error(`item ${item.n} refused`)));
    return result;
  }

  @QueueHandler('all-fail', { batch: { size: 4, maxWaitMs: 50 }, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  async allFail(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): Promise<void> {
    record('all-fail', items, ctx);
    await Promise.resolve();
    throw new Error('the warehouse is down');
  }

  @QueueHandler('mixed-input', { batch: { size: 5, maxWaitMs: 50 } })
  mixed(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): void {
    record('mixed-input', items, ctx);
  }

  @QueueHandler('non-retryable', { batch: { size: 3, maxWaitMs: 50 }, maxAttempts: 5 })
  refuse(@Payload() items: Item[]): BatchResult {
    return BatchResult.failing(items.map((_, i) => i).filter((i) => items[i].fail), new NonRetryableError('never'));
  }

  @QueueHandler('slow', { batch: { size: 3, maxWaitMs: 50 }, timeoutMs: 100, maxAttempts: 1 })
  async slow(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): Promise<void> {
    record('slow', items, ctx);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    aborted = ctx.signal.reason;
  }

  @QueueHandler('piped', { batch: { size: 4, maxWaitMs: 50 } })
  @UseInterceptors(CountingInterceptor)
  async piped(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): Promise<void> {
    record('piped', items, ctx);
    await Promise.resolve();
  }

  @QueueHandler('requests', { batch: { size: 4, maxWaitMs: 20 } })
  requests(@Payload() items: Item[], @Ctx() ctx: QueueBatchContext): void {
    record('requests', items, ctx);
  }
}

/** `n` of a dead-lettered message: its envelope's payload (`p`, see docs/wire-format.md). */
const numberOf = (message: string) => (JSON.parse(message) as { p: Item }).p.n;

const items = (from: number, count: number, fail: (n: number) => boolean = () => false) =>
  Array.from({ length: count }, (_, i) => ({ n: from + i, ...(fail(from + i) ? { fail: true } : {}) }));

describe('batch queue handlers', () => {
  const handled: HandledEvent[] = [];
  const failed: FailedEvent[] = [];
  const broker = useBrokerApp({ delayedPollMs: 20, instanceId: 'batcher' }, [BatchHandlers, CountingInterceptor], {
    // A backlog there before the consumer starts: batches fill to their size.
    beforeBoot: ({ plain }) => plain.lpush('backlog', ...items(0, 25).map((i) => JSON.stringify(i))),
  });

  beforeAll(() => {
    const events = broker.app.get(BrokerEvents);
    events.on('handled', (e) => handled.push(e));
    events.on('failed', (e) => failed.push(e));
  });

  it('hands a backlog over in full batches of size, in queue order, then the rest after maxWaitMs', async () => {
    await waitForQueuesIdle(broker.redis.url, ['backlog'], { timeoutMs: 10_000 });
    expect(batches.get('backlog')).toEqual([items(0, 10), items(10, 10), items(20, 5)].map((b) => b.map((i) => i.n)));
    // One context per payload, in the same order, with each message's id.
    const [first] = contexts;
    expect(first.size).toBe(10);
    expect(first.queue).toBe('backlog');
    expect(first.consumer).toBe('batcher');
    expect(first.messages.map((m) => JSON.parse(m.raw) as Item)).toEqual(items(0, 10));
    expect(new Set(first.messages.map((m) => m.id)).size).toBe(10);
    // Metrics and hooks see every message, not every batch.
    expect(handled.filter((e) => e.source === 'backlog')).toHaveLength(25);
  });

  it('runs a partial batch once maxWaitMs passes with no more messages', async () => {
    await broker.app.get(BrokerClient).enqueueMany('piped', items(100, 3));
    await waitFor(() => (batches.get('piped') ?? []).length === 1, { description: 'the partial batch' });
    expect(batches.get('piped')).toEqual([[100, 101, 102]]);
    // Through Nest's pipeline, the interceptor saw the batch as one call with the array.
    expect(intercepted).toEqual([3]);
  });

  it('retries only the items a BatchResult failed, and dead-letters them at maxAttempts', async () => {
    await broker.app.get(BrokerClient).enqueueMany('partial', items(200, 5, (n) => n === 201 || n === 203));
    await waitForQueuesIdle(broker.redis.url, ['partial'], { timeoutMs: 10_000 });
    const seen = attempts.get('partial')!;
    for (const n of [200, 202, 204]) expect(seen.get(n)).toEqual([1]);
    for (const n of [201, 203]) expect(seen.get(n)).toEqual([1, 2, 3]);
    const dead = await broker.app.get(QueueDeadLetterService).list('partial');
    expect(dead.map((d) => [numberOf(d.message), d.reason, d.attempts]).sort()).toEqual([
      [201, 'max-attempts', 3],
      [203, 'max-attempts', 3],
    ]);
    expect(dead[0].error).toMatch(/item 20[13] refused/);
    expect(handled.filter((e) => e.source === 'partial')).toHaveLength(3);
    expect(failed.filter((e) => e.source === 'partial')).toHaveLength(6);
  });

  it('fails every item when the handler throws, counting each one\'s attempts up to the dead-letter list', async () => {
    await broker.app.get(BrokerClient).enqueueMany('all-fail', items(300, 4));
    await waitForQueuesIdle(broker.redis.url, ['all-fail'], { timeoutMs: 10_000 });
    expect(batches.get('all-fail')?.map((b) => [...b].sort())).toEqual([[300, 301, 302, 303], [300, 301, 302, 303]]);
    for (let n = 300; n < 304; n += 1) expect(attempts.get('all-fail')!.get(n)).toEqual([1, 2]);
    const dead = await broker.app.get(QueueDeadLetterService).list('all-fail');
    expect(dead).toHaveLength(4);
    expect(dead.every((d) => d.reason === 'max-attempts' && d.error === 'the warehouse is down')).toBe(true);
    expect(failed.filter((e) => e.source === 'all-fail')).toHaveLength(8);
  });

  it('dead-letters an unparsable message on its own while the rest of its batch runs', async () => {
    const good = items(400, 4).map((i) => JSON.stringify(i));
    await broker.plain.lpush('mixed-input', good[0], good[1], '{not json', good[2], good[3]);
    await waitForQueuesIdle(broker.redis.url, ['mixed-input'], { timeoutMs: 10_000 });
    expect(batches.get('mixed-input')).toEqual([[400, 401, 402, 403]]);
    const dead = await broker.app.get(QueueDeadLetterService).list('mixed-input');
    expect(dead.map((d) => [d.message, d.reason])).toEqual([['{not json', 'unparsable']]);
  });

  it('dead-letters at once an item failed with NonRetryableError', async () => {
    await broker.app.get(BrokerClient).enqueueMany('non-retryable', items(500, 3, (n) => n === 501));
    await waitForQueuesIdle(broker.redis.url, ['non-retryable'], { timeoutMs: 10_000 });
    const dead = await broker.app.get(QueueDeadLetterService).list('non-retryable');
    expect(dead.map((d) => [numberOf(d.message), d.reason, d.attempts])).toEqual([[501, 'non-retryable', 1]]);
  });

  it('applies timeoutMs to the batch run: its signal aborts, and each item counts a timed-out attempt', async () => {
    await broker.app.get(BrokerClient).enqueueMany('slow', items(600, 2));
    await waitForQueuesIdle(broker.redis.url, ['slow'], { timeoutMs: 10_000 });
    expect(batches.get('slow')).toEqual([[600, 601]]);
    expect((aborted as DOMException).name).toBe('TimeoutError');
    const dead = await broker.app.get(QueueDeadLetterService).list('slow');
    expect(dead.map((d) => d.reason)).toEqual(['timeout', 'timeout']);
  });

  it('refuses a request at once with a failure reply and a dead letter: a batch handler does not answer', async () => {
    const request = broker.app.get(BrokerClient).request('requests', { n: 700 }, { timeoutMs: 10_000 });
    await expect(request).rejects.toBeInstanceOf(RequestFailedError);
    await expect(request).rejects.toMatchObject({ reason: 'non-retryable' });
    // A plain message beside it still runs.
    await broker.app.get(BrokerClient).enqueue('requests', { n: 701 });
    await waitForQueuesIdle(broker.redis.url, ['requests'], { timeoutMs: 10_000 });
    expect(batches.get('requests')).toEqual([[701]]);
  });
});
