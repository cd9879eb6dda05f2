import { Injectable, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import {
  BrokerClient,
  InvalidBrokerOptionsError,
  NonRetryableError,
  QueueHandler,
  RequestFailedError,
  RequestTimeoutError,
  type QueueMessageContext,
} from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { map, of, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

/** Multiplies a numeric result by 10: proof the reply is what came out of Nest's interceptor chain. */
@Injectable()
class TimesTen implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value: unknown) => (value as number) * 10));
  }
}

const slowGate = { release: deferred() };
const slowRuns: number[] = [];
const blinkGate = { started: deferred(), release: deferred() };
const seenHeaders: Record<string, string>[] = [];
const flakyRuns = new Map<number, number>();
const plainRuns: unknown[] = [];

@Injectable()
class ReplyHandlers {
  @QueueHandler('sum', { blockTimeoutMs: 100, concurrency: 8 })
  sum(payload: { a: number; b: number }, ctx: QueueMessageContext): { sum: number; id: string } {
    seenHeaders.push({ ...ctx.headers });
    return { sum: payload.a + payload.b, id: ctx.id };
  }

  @QueueHandler('async-echo', { blockTimeoutMs: 100 })
  async asyncEcho(payload: unknown): Promise<unknown> {
    await new Promise((resolve) => setImmediate(resolve));
    return payload;
  }

  @QueueHandler('nothing', { blockTimeoutMs: 100 })
  nothing(): void {
    // A handler that returns nothing answers null.
  }

  @QueueHandler('refuse', { blockTimeoutMs: 100 })
  refuse(payload: { user: string }): never {
    throw new NonRetryableError(`no such user "${payload.user}"`);
  }

  @QueueHandler('flaky', { blockTimeoutMs: 100, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50, jitter: false } })
  flaky(payload: { n: number }): number {
    const runs = (flakyRuns.get(payload.n) ?? 0) + 1;
    flakyRuns.set(payload.n, runs);
    if (runs === 1) throw new Error('first attempt fails');
    return payload.n * 2;
  }

  @QueueHandler('always-fails', { blockTimeoutMs: 100, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50, jitter: false } })
  alwaysFails(): never {
    throw new Error('still broken');
  }

  @QueueHandler('slow', { blockTimeoutMs: 100 })
  async slow(payload: { n: number }): Promise<number> {
    slowRuns.push(payload.n);
    if (payload.n === 1) await slowGate.release.promise;
    return payload.n;
  }

  @QueueHandler('blink', { blockTimeoutMs: 100 })
  async blink(payload: string): Promise<string> {
    blinkGate.started.resolve();
    await blinkGate.release.promise;
    return payload.toUpperCase();
  }

  @QueueHandler('observable', { blockTimeoutMs: 100 })
  observable(payload: { n: number }): Observable<number> {
    return of(payload.n, payload.n + 1, payload.n + 2);
  }

  @UseInterceptors(TimesTen)
  @QueueHandler('intercepted', { blockTimeoutMs: 100 })
  intercepted(payload: { n: number }): number {
    return payload.n;
  }

  @UseInterceptors(TimesTen)
  @QueueHandler('intercepted-async', { blockTimeoutMs: 100 })
  async interceptedAsync(payload: { n: number }): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    return payload.n;
  }

  @UseInterceptors(TimesTen)
  @QueueHandler('intercepted-observable', { blockTimeoutMs: 100 })
  interceptedObservable(payload: { n: number }): Observable<number> {
    return of(0, payload.n);
  }

  @QueueHandler('plain', { blockTimeoutMs: 100 })
  plain(payload: unknown): string {
    plainRuns.push(payload);
    return 'ignored: nobody asked';
  }
}

describe('request-reply over a list queue', () => {
  const broker = useBrokerApp({}, [ReplyHandlers, TimesTen]);
  const client = (): BrokerClient => broker.app.get(BrokerClient);

  it('resolves to the return value of the handler, which sees the request as an ordinary message with headers', async () => {
    const reply = await client().request<{ sum: number; id: string }>('sum', { a: 2, b: 3 }, { timeoutMs: 10_000, headers: { tenant: 'acme' } });
    expect(reply.sum).toBe(5);
    expect(reply.id).toEqual(expect.any(String));
    expect(seenHeaders.at(-1)?.tenant).toBe('acme');
    expect(seenHeaders.at(-1)?.['nrb-reply-to']).toMatch(/^nrb:replies:\{.+\}$/);
    await expect(client().request('async-echo', { deep: [1, 'two', null] })).resolves.toEqual({ deep: [1, 'two', null] });
    await expect(client().request('nothing', 'x')).resolves.toBeNull();
  });

  it('answers many concurrent requests each with its own reply', async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, a) => client().request<{ sum: number }>('sum', { a, b: 1000 }, { timeoutMs: 20_000 })),
    );
    expect(replies.map((reply) => reply.sum)).toEqual(Array.from({ length: 200 }, (_, a) => a + 1000));
  });

  it('rejects with RequestFailedError carrying the handler error message when the handler throws NonRetryableError', async () => {
    const failure = await client().request('refuse', { user: 'bob' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestFailedError);
    expect(failure).toMatchObject({ reason: 'non-retryable', handlerError: 'no such user "bob"', queue: 'refuse' });
    expect((failure as Error).message).toContain('no such user "bob"');
  });

  it('keeps waiting through a retry and resolves with the answer of the attempt that succeeded', async () => {
    await expect(client().request('flaky', { n: 21 }, { timeoutMs: 10_000 })).resolves.toBe(42);
    expect(flakyRuns.get(21)).toBe(2);
  });

  it('rejects with reason max-attempts once the last attempt failed and the message is dead-lettered', async () => {
    const failure = await client().request('always-fails', {}, { timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestFailedError);
    expect(failure).toMatchObject({ reason: 'max-attempts', handlerError: 'still broken' });
  });

  it('rejects with RequestTimeoutError after timeoutMs and drops the late reply', async () => {
    const failure = await client().request('slow', { n: 1 }, { timeoutMs: 300 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestTimeoutError);
    expect(failure).toMatchObject({ queue: 'slow', timeoutMs: 300 });
    expect(slowRuns).toEqual([1]);
    const pushes = async (): Promise<number> => Number(/cmdstat_rpush:calls=(\d+)/.exec(await broker.plain.info('commandstats'))?.[1] ?? 0);
    const before = await pushes();
    slowGate.release.resolve();
    // The late reply is pushed, then taken off the list by the requester's loop, which finds nobody waiting.
    await waitFor(async () => (await pushes()) === before + 1 && (await broker.plain.keys('nrb:replies:*')).length === 0, {
      description: 'the late reply to be pushed and read',
    });
    await expect(client().request('slow', { n: 2 }, { timeoutMs: 10_000 })).resolves.toBe(2);
  });

  it('gets its reply when the reply connection was killed while the request waited', async () => {
    const answer = client().request('blink', 'after the blink', { timeoutMs: 30_000 });
    await blinkGate.started.promise;
    const line = ((await broker.plain.client('LIST')) as string).split('\n').find((l) => l.includes('name=nrb:blocking:replies'));
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
    expect(id).toBeDefined();
    expect(await broker.plain.client('KILL', 'ID', id!)).toBe(1);
    blinkGate.release.resolve();
    await expect(answer).resolves.toBe('AFTER THE BLINK');
    await waitFor(async () => ((await broker.plain.client('LIST')) as string).includes('name=nrb:blocking:replies'), {
      description: 'the reply connection to be back',
    });
  });

  it('replies with the last value of an Observable the handler returns', async () => {
    await expect(client().request('observable', { n: 5 })).resolves.toBe(7);
  });

  it('replies with what comes out of an interceptor, whether the handler returns a value, a promise or an Observable', async () => {
    await expect(client().request('intercepted', { n: 4 })).resolves.toBe(40);
    await expect(client().request('intercepted-async', { n: 5 })).resolves.toBe(50);
    await expect(client().request('intercepted-observable', { n: 6 })).resolves.toBe(60);
  });

  it('sends no reply for a message enqueued without the reply header', async () => {
    const pushes = async (): Promise<number> => Number(/cmdstat_rpush:calls=(\d+)/.exec(await broker.plain.info('commandstats'))?.[1] ?? 0);
    const before = await pushes();
    await client().enqueue('plain', { hello: 1 });
    await broker.plain.lpush('plain', JSON.stringify({ hello: 2 }));
    await waitFor(() => plainRuns.length === 2, { description: 'both plain messages to run' });
    expect(await pushes()).toBe(before);
  });

  it('does not reply to a reply-to header outside this prefix\'s reply lists', async () => {
    await client().enqueue('plain', { hello: 3 }, { headers: { 'nrb-reply-to': 'somebody:else:key' } });
    await waitFor(() => plainRuns.length === 3, { description: 'the message to run' });
    await waitFor(() => broker.logger.text().includes('which is not a reply list of this key prefix'), { description: 'the refusal to be logged' });
    expect(await broker.plain.exists('somebody:else:key')).toBe(0);
  });

  it('answers a request another client wrote by hand on the reply list its header names, as docs/request-reply.md shows', async () => {
    const envelope = '{"__nrb":1,"id":"req-1","t":1700000000000,"h":{"nrb-reply-to":"nrb:replies:{cli-1}"},"p":{"a":40,"b":2}}';
    await broker.plain.lpush('sum', envelope);
    const popped = await broker.plain.blpop('nrb:replies:{cli-1}', 10);
    expect(popped?.[0]).toBe('nrb:replies:{cli-1}');
    expect(JSON.parse(popped![1])).toEqual({ id: 'req-1', ok: true, v: { sum: 42, id: 'req-1' } });
  });

  it('gives a reply list nobody reads an expiry, so abandoned replies leave Redis', async () => {
    await broker.plain.lpush('sum', '{"__nrb":1,"id":"req-2","t":1700000000000,"h":{"nrb-reply-to":"nrb:replies:{gone}"},"p":{"a":1,"b":2}}');
    await waitFor(async () => (await broker.plain.llen('nrb:replies:{gone}')) === 1, { description: 'the reply to be pushed' });
    const ttl = await broker.plain.pttl('nrb:replies:{gone}');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('rejects a bad timeoutMs naming the option and value', async () => {
    const error = await client().request('sum', {}, { timeoutMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
    expect((error as Error).message).toContain('"request.timeoutMs": got 0');
    await expect(client().request('sum', {}, { timeout: 5 } as never)).rejects.toThrow(/request\.timeout/);
  });

  it('opens one reply connection on the first request and closes it on app.close(), rejecting requests still waiting', async () => {
    const { app } = await bootBroker({ connection: { url: broker.redis.url }, producerOnly: true }, []);
    const replyConnections = async (): Promise<number> =>
      ((await broker.plain.client('LIST')) as string).split('\n').filter((line) => line.includes('name=nrb:blocking:replies')).length;
    const before = await replyConnections();
    const other = app.get(BrokerClient);
    const answered = await other.request<{ sum: number }>('sum', { a: 1, b: 1 });
    expect(answered.sum).toBe(2);
    expect(await replyConnections()).toBe(before + 1);
    const waiting = other.request('no-consumer-here', {}, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await app.close();
    expect(await waiting).toBeInstanceOf(Error);
    expect(((await waiting) as Error).message).toContain('shut down');
    await expect(other.request('sum', { a: 1, b: 1 })).rejects.toThrow(/after the broker shut down/);
    await waitFor(async () => (await replyConnections()) === before, { description: 'the reply connection to close' });
  });
});
