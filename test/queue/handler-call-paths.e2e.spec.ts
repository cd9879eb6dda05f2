import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { of, tap, throwError, type Observable } from 'rxjs';
import { BrokerClient, Ctx, Payload, QueueHandler, type QueueMessageContext } from 'nest-redis-broker';
import { startRedisServer, waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

// Handlers without any enhancer are called directly, the others through Nest's
// pipeline; both must behave the same way from the handler's point of view.

const calls: string[] = [];

@Injectable()
class TaggingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    calls.push(`intercepted ${context.getType()} ${(context.switchToRpc().getContext<QueueMessageContext>()).queue}`);
    return next.handle().pipe(tap(() => calls.push('intercepted after')));
  }
}

@Injectable()
class PlainHandlers {
  @QueueHandler('plain-positional')
  positional(payload: { n: number }, ctx: QueueMessageContext): void {
    calls.push(`positional ${payload.n} ${ctx.queue} attempt ${ctx.attempt}`);
  }

  @QueueHandler('plain-params')
  params(@Ctx() ctx: QueueMessageContext, @Payload('order.id') id: string): void {
    calls.push(`params ${id} ${ctx.queue}`);
  }

  @QueueHandler('plain-observable', { maxAttempts: 1 })
  observable(payload: { fail: boolean }): Observable<string> {
    calls.push(`observable ${payload.fail}`);
    return payload.fail ? throwError(() => new Error('observable failed')) : of('ok');
  }

  @QueueHandler('plain-throws', { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 } })
  throws(): void {
    throw new Error('plain handler failed');
  }
}

@Injectable()
@UseInterceptors(TaggingInterceptor)
class InterceptedHandlers {
  @QueueHandler('class-intercepted')
  handle(payload: string): void {
    calls.push(`class-intercepted ${payload}`);
  }
}

@Injectable()
class GloballyInterceptedHandlers {
  @QueueHandler('global-intercepted')
  handle(payload: string): void {
    calls.push(`global-intercepted ${payload}`);
  }
}

describe('handler calls with and without Nest enhancers', () => {
  const broker = useBrokerApp({ delayedPollMs: 50 }, [PlainHandlers, InterceptedHandlers, TaggingInterceptor]);

  it('passes payload and context positionally to a handler without enhancers or parameter decorators', async () => {
    await broker.app.get(BrokerClient).enqueue('plain-positional', { n: 7 });
    await waitFor(() => calls.includes('positional 7 plain-positional attempt 1'), { description: 'the plain handler' });
  });

  it('maps @Payload(path) and @Ctx() in any order for a handler without enhancers', async () => {
    await broker.app.get(BrokerClient).enqueue('plain-params', { order: { id: 'o-1' } });
    await waitFor(() => calls.includes('params o-1 plain-params'), { description: 'the handler with parameter decorators' });
  });

  it('waits for an Observable result: one that errors fails the message', async () => {
    await broker.app.get(BrokerClient).enqueueMany('plain-observable', [{ fail: false }, { fail: true }]);
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['plain-observable']);
    expect(calls).toContain('observable false');
    expect(calls).toContain('observable true');
    expect(stats.dead).toBe(1);
  });

  it('logs a plain handler error under ExceptionsHandler, as Nest does, and retries the message', async () => {
    await broker.app.get(BrokerClient).enqueue('plain-throws', 'x');
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['plain-throws']);
    expect(stats.dead).toBe(1);
    expect(broker.logger.lines.some((l) => l.level === 'error' && l.context === 'ExceptionsHandler' && l.message.includes('plain handler failed'))).toBe(true);
  });

  it('still runs a class-level interceptor around its handler', async () => {
    await broker.app.get(BrokerClient).enqueue('class-intercepted', 'a');
    await waitFor(() => calls.includes('class-intercepted a'), { description: 'the intercepted handler' });
    expect(calls).toContain('intercepted redis-broker class-intercepted');
    await waitFor(() => calls.includes('intercepted after'), { description: 'the interceptor after the handler' });
  });
});

describe('handler calls with a global interceptor', () => {
  it('run an APP_INTERCEPTOR around a handler that has no enhancer of its own', async () => {
    const redis = await startRedisServer();
    const { app } = await bootBroker({ connection: { url: redis.url } }, [
      GloballyInterceptedHandlers,
      { provide: APP_INTERCEPTOR, useClass: TaggingInterceptor },
    ]);
    try {
      await app.get(BrokerClient).enqueue('global-intercepted', 'b');
      await waitFor(() => calls.includes('global-intercepted b'), { description: 'the handler' });
      expect(calls).toContain('intercepted redis-broker global-intercepted');
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
