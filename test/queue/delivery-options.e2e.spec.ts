import { CallHandler, CanActivate, ExecutionContext, Injectable, NestInterceptor, UseGuards, UseInterceptors } from '@nestjs/common';
import { Redis } from 'ioredis';
import { tap, type Observable } from 'rxjs';
import {
  BROKER_CONTEXT_TYPE,
  BrokerClient,
  Ctx,
  Payload,
  QueueDeadLetterService,
  QueueHandler,
  QueueInspector,
  type QueueMessageContext,
} from 'nest-redis-broker';
import { ConsumerRunner, HandlerRegistry } from 'nest-redis-broker/internal';
import { startRedisServer, waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

const events: string[] = [];
const seen: Record<string, unknown[]> = { delayed: [], dedup: [], prio: [], path: [] };
/** When each message of queue "delayed" reached its handler (epoch ms). */
const delayedAt = new Map<string, number>();

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc = context.switchToRpc();
    events.push(`before ${context.getType()} ${JSON.stringify(rpc.getData())} ${(rpc.getContext<QueueMessageContext>()).queue}`);
    return next.handle().pipe(tap(() => events.push('after')));
  }
}

@Injectable()
class RejectOddGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return (context.switchToRpc().getData<{ n: number }>().n % 2) === 0;
  }
}

@Injectable()
class Handlers {
  @QueueHandler('delayed')
  delayed(payload: string): void {
    delayedAt.set(payload, Date.now());
    seen.delayed.push(payload);
  }

  @QueueHandler('dedup')
  dedup(payload: string): void {
    seen.dedup.push(payload);
  }

  @QueueHandler('path')
  @UseInterceptors(RecordingInterceptor)
  path(@Payload('user.id') userId: string, @Ctx() ctx: QueueMessageContext): void {
    seen.path.push([userId, ctx.attempt]);
  }

  @QueueHandler('guarded', { maxAttempts: 1 })
  @UseGuards(RejectOddGuard)
  guarded(payload: { n: number }): void {
    events.push(`guarded ${payload.n}`);
  }
}

describe('delivery options and the Nest pipeline', () => {
  const broker = useBrokerApp({ delayedPollMs: 50 }, [Handlers, RecordingInterceptor]);

  it('holds a delayed message in the delayed set until it is due', async () => {
    const client = broker.app.get(BrokerClient);
    const delayMs = 400;
    const enqueuedAt = Date.now();
    await client.enqueue('delayed', 'later', { delayMs });
    await client.enqueue('delayed', 'now');
    await waitFor(() => seen.delayed.length === 2, { description: 'both messages' });
    // Its due time is Redis' clock (this machine's) at the enqueue plus the delay: not handed out before.
    expect(delayedAt.get('later')! - enqueuedAt).toBeGreaterThanOrEqual(delayMs);
    expect((await broker.app.get(QueueInspector).stats('delayed')).delayed).toBe(0);
  });

  it('skips a message whose dedupKey was seen within the window', async () => {
    const client = broker.app.get(BrokerClient);
    expect(await client.enqueue('dedup', 'first', { dedupKey: 'order-1' })).toEqual(expect.any(String));
    expect(await client.enqueue('dedup', 'second', { dedupKey: 'order-1' })).toBeNull();
    expect(await client.enqueue('dedup', 'other', { dedupKey: 'order-2', dedupTtlMs: 50 })).toEqual(expect.any(String));
    await waitForQueuesIdle(broker.redis.url, ['dedup']);
    expect(seen.dedup.sort()).toEqual(['first', 'other']);
  });

  it('puts a high-priority message at the consuming end', async () => {
    const client = broker.app.get(BrokerClient);
    await broker.plain.lpush('prio-unconsumed', '"a"', '"b"');
    await client.enqueue('prio-unconsumed', 'urgent', { priority: 'high' });
    expect(JSON.parse((await broker.plain.rpop('prio-unconsumed'))!)).toMatchObject({ p: 'urgent' });
  });

  it('runs interceptors with the redis-broker context type and resolves @Payload property paths', async () => {
    await broker.app.get(BrokerClient).enqueue('path', { user: { id: 'u-9' } });
    await waitFor(() => seen.path.length === 1, { description: 'the handler' });
    expect(seen.path).toEqual([['u-9', 1]]);
    // getType() answers the exported constant, whose value apps compare with.
    expect(events).toContain(`before ${BROKER_CONTEXT_TYPE} {"user":{"id":"u-9"}} path`);
    expect(events).toContain(`before redis-broker {"user":{"id":"u-9"}} path`);
    expect(events).toContain('after');
  });

  it('applies guards: a message a guard rejects fails like a handler error', async () => {
    const [rejected] = await broker.app.get(BrokerClient).enqueueMany('guarded', [{ n: 1 }, { n: 2 }]);
    const [stats] = await waitForQueuesIdle(broker.redis.url, ['guarded']);
    expect(events).toContain('guarded 2');
    expect(events).not.toContain('guarded 1');
    expect(stats.dead).toBe(1);
    // The rejected message is the dead one, recorded as a failed attempt of the handler with the guard's error.
    const [dead] = await broker.app.get(QueueDeadLetterService).list('guarded');
    expect(JSON.parse(dead.message)).toMatchObject({ id: rejected, p: { n: 1 } });
    expect(dead).toMatchObject({ messageId: rejected, reason: 'max-attempts', error: 'Forbidden resource', attempts: 1, handler: 'Handlers@guarded' });
  });

  it('registers every handler and reports each consumer running', async () => {
    expect(broker.app.get(HandlerRegistry).queues().sort()).toEqual(['dedup', 'delayed', 'guarded', 'path']);
    expect(broker.app.get(ConsumerRunner).health().map((h) => h.state)).toEqual(['running', 'running', 'running', 'running']);
  });
});

describe('producer-only apps', () => {
  it('discover handlers but start no consumer', async () => {
    const redis = await startRedisServer();
    const { app } = await bootBroker({ connection: { url: redis.url }, producerOnly: true }, [Handlers]);
    try {
      expect(app.get(HandlerRegistry).queues()).toHaveLength(4);
      expect(app.get(ConsumerRunner).health()).toEqual([]);
      await app.get(BrokerClient).enqueue('delayed', 'stays');
      const plain = new Redis(redis.url);
      const stored = await plain.lrange('delayed', 0, -1);
      expect(stored.map((text) => (JSON.parse(text) as { p: unknown }).p)).toEqual(['stays']);
      expect(await plain.client('LIST')).not.toContain('nrb:blocking');
      plain.disconnect();
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
