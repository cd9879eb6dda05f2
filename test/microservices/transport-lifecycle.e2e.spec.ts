import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { InvalidBrokerOptionsError, QueueKeys } from 'nest-redis-broker';
import {
  RedisBrokerClientProxy, RedisBrokerServer, type EventRouting, type RedisBrokerServerOptions,
} from 'nest-redis-broker/microservices';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingLogger, deferred } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const ROUTING: EventRouting = { events: 'queue', patterns: { 'shipments.sent': 'stream' } };
const EVENTS = 20;

/** Which instance handled which event, by pattern. */
const handled = new Map<string, string[]>();
let instanceName = '';
let slowGate = deferred();

@Controller()
class ShippingController {
  private readonly instance = instanceName;

  @EventPattern<string>('orders.placed')
  onOrder(@Payload('n') n: number): void {
    record('orders.placed', `${this.instance}:${n}`);
  }

  @EventPattern<string>('shipments.sent')
  onShipment(@Payload('n') n: number): void {
    record('shipments.sent', `${this.instance}:${n}`);
  }

  @EventPattern<string>('orders.slow')
  async onSlow(@Payload('n') n: number): Promise<void> {
    record('orders.slow:started', String(n));
    await slowGate.promise;
    record('orders.slow', String(n));
  }

  @EventPattern<string>('orders.poison')
  onPoison(): void {
    record('orders.poison', 'run');
    throw new Error('cannot ever handle this');
  }

  @EventPattern<string>('orders.once', { redisBroker: { maxAttempts: 1 } })
  onOnce(): void {
    record('orders.once', 'run');
    throw new Error('cannot handle this either');
  }
}

function record(pattern: string, value: string): void {
  handled.set(pattern, [...(handled.get(pattern) ?? []), value]);
}

@Module({ controllers: [ShippingController] })
class ShippingModule {}

@Controller()
class ObjectPatternController {
  @MessagePattern({ cmd: 'sum' })
  sum(): number {
    return 0;
  }
}

@Module({ controllers: [ObjectPatternController] })
class ObjectPatternModule {}

@Controller()
class BadExtrasController {
  @EventPattern<string>('orders.bad', { redisBroker: { maxAttempts: 0 } })
  onBad(): void {}
}

@Module({ controllers: [BadExtrasController] })
class BadExtrasModule {}

describe('the microservices transport as a standalone microservice', () => {
  const ctx = useRedis();
  const apps: INestMicroservice[] = [];
  const logger = new CapturingLogger();

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    handled.clear();
  });

  function serverOptions(extra: RedisBrokerServerOptions = {}): RedisBrokerServerOptions {
    return {
      connection: { url: ctx.redis.url },
      ...ROUTING,
      group: 'shipping',
      queueDefaults: { blockTimeoutMs: 200, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
      streamDefaults: { blockTimeoutMs: 200 },
      ...extra,
    };
  }

  async function startMicroservice(module: object, name: string, options = serverOptions(), server = new RedisBrokerServer(options)): Promise<INestMicroservice> {
    instanceName = name;
    const app = await NestFactory.createMicroservice(module as never, { strategy: server, logger });
    apps.push(app);
    await app.listen();
    return app;
  }

  async function emitAll(pattern: string, count: number): Promise<void> {
    const client = new RedisBrokerClientProxy({ connection: { url: ctx.redis.url }, ...ROUTING });
    await client.connect();
    try {
      for (let n = 0; n < count; n += 1) await firstValueFrom(client.emit(pattern, { n }));
    } finally {
      await client.close();
    }
  }

  it('handles every event emitted while no consumer ran, once the microservice starts (queue and stream)', async () => {
    await emitAll('orders.placed', EVENTS);
    await emitAll('shipments.sent', EVENTS);
    // Nobody listens yet: the events wait in Redis (Nest's pub/sub Redis transport would have lost them).
    expect(await ctx.plain.llen('orders.placed')).toBe(EVENTS);
    expect(await ctx.plain.xlen('shipments.sent')).toBe(EVENTS);
    await startMicroservice(ShippingModule, 'late');
    const expected = Array.from({ length: EVENTS }, (_, n) => `late:${n}`);
    await waitFor(() => (handled.get('orders.placed')?.length ?? 0) >= EVENTS && (handled.get('shipments.sent')?.length ?? 0) >= EVENTS, {
      description: 'every event to be handled',
    });
    expect([...(handled.get('orders.placed') ?? [])].sort()).toEqual([...expected].sort());
    expect([...(handled.get('shipments.sent') ?? [])].sort()).toEqual([...expected].sort());
  });

  it('gives each event to one instance of the service, not to every instance', async () => {
    await startMicroservice(ShippingModule, 'a');
    await startMicroservice(ShippingModule, 'b');
    await emitAll('orders.placed', EVENTS);
    await emitAll('shipments.sent', EVENTS);
    await waitFor(() => (handled.get('orders.placed')?.length ?? 0) >= EVENTS && (handled.get('shipments.sent')?.length ?? 0) >= EVENTS, {
      description: 'every event to be handled',
    });
    for (const pattern of ['orders.placed', 'shipments.sent']) {
      const numbers = (handled.get(pattern) ?? []).map((v) => Number(v.split(':')[1]));
      expect(numbers.sort((x, y) => x - y)).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
    }
  });

  it('dead-letters an event whose handler fails maxAttempts times: the server\'s, or its pattern\'s own', async () => {
    await startMicroservice(ShippingModule, 'dlq');
    await emitAll('orders.poison', 1);
    await emitAll('orders.once', 1);
    for (const queue of ['orders.poison', 'orders.once']) {
      const keys = new QueueKeys(queue, '');
      await waitFor(async () => (await ctx.plain.zcard(keys.deadIndex)) === 1, { description: `the ${queue} event to be dead-lettered` });
      expect(await ctx.plain.llen(queue)).toBe(0);
    }
    // queueDefaults.maxAttempts is 2; `{ redisBroker: { maxAttempts: 1 } }` on the pattern wins.
    expect(handled.get('orders.poison')).toEqual(['run', 'run']);
    expect(handled.get('orders.once')).toEqual(['run']);
  });

  it('lets a running handler finish on close(), then acks its event: nothing is left or run twice', async () => {
    slowGate = deferred();
    const server = new RedisBrokerServer(serverOptions({ shutdownTimeoutMs: 30_000 }));
    const app = await startMicroservice(ShippingModule, 'closing', undefined, server);
    await emitAll('orders.slow', 1);
    await waitFor(() => handled.has('orders.slow:started'), { description: 'the slow handler to start' });
    // close() reaches the server's stop before its first await: the handler is released during the drain.
    const closing = app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(server.health()).toEqual([]);
    slowGate.resolve();
    await closing;
    expect(handled.get('orders.slow')).toEqual(['0']);
    const [stats] = await waitForQueuesIdle(ctx.redis.url, ['orders.slow']);
    expect(stats).toMatchObject({ waiting: 0, dead: 0 });
    // Started again by a new instance, the event would be recorded a second time: it is not there to run.
    handled.clear();
    await startMicroservice(ShippingModule, 'after');
    await emitAll('orders.placed', 1);
    await waitFor(() => handled.has('orders.placed'), { description: 'a new event to be handled' });
    expect(handled.has('orders.slow:started')).toBe(false);
  });

  it('fails at construction on a bad option, naming the option and the value', () => {
    expect(() => new RedisBrokerServer({ events: 'pubsub' as never })).toThrow(InvalidBrokerOptionsError);
    expect(() => new RedisBrokerServer({ events: 'pubsub' as never })).toThrow(/"events": got "pubsub"/);
    expect(() => new RedisBrokerServer({ patterns: { 'a.b': 'list' as never } })).toThrow(/"patterns\.a\.b": got "list"/);
    expect(() => new RedisBrokerServer({ producerOnly: true } as never)).toThrow(/Unknown nest-redis-broker option "producerOnly"/);
    expect(() => new RedisBrokerServer({ queueDefaults: { maxAttempts: 0 } })).toThrow(/"queueDefaults\.maxAttempts": got 0/);
    expect(() => new RedisBrokerClientProxy({ timeoutMs: -5 })).toThrow(/"timeoutMs": got -5/);
  });

  it('refuses to start when a stream-routed event has no group, a pattern is no queue name or its options are bad', async () => {
    await expect(startMicroservice(ShippingModule, 'nogroup', serverOptions({ group: undefined }))).rejects.toThrow(
      /"group": got undefined; accepted: a consumer group name, since event pattern "shipments.sent" routes to a stream/,
    );
    await expect(startMicroservice(ObjectPatternModule, 'object')).rejects.toThrow(/Invalid pattern name "\{\\?"cmd\\?":\\?"sum\\?"\}"/);
    await expect(startMicroservice(BadExtrasModule, 'extras')).rejects.toThrow(/"@EventPattern\(orders\.bad\)\.maxAttempts": got 0/);
  });
});
