import { Logger } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { BrokerEvents, type BrokerEventMap } from '../core/events.js';
import { NameRegistry } from '../core/redis/name.registry.js';
import { RedisConnectionFactory, type RedisClient } from '../core/redis/redis-connection.factory.js';
import { consumerHealthBoard } from '../runtime/consumer-health.board.js';
import type { BrokerConsumer, ConsumerHealth } from '../runtime/message-source.js';
import { QueueConsumer } from '../queue/queue.consumer.js';
import { StreamGroupConsumer } from '../stream/stream-group.consumer.js';
import { describeTransportHandlers } from './transport-handlers.js';
import { resolveServerOptions, type ResolvedServerOptions } from './transport-options.validation.js';
import type { RedisBrokerServerOptions } from './transport.options.js';
import { collectGarbageNow } from '../runtime/boot-garbage.js';

/**
 * The transport id of `RedisBrokerServer`: `@EventPattern('x', REDIS_BROKER_TRANSPORT)`
 * binds a handler to this transport alone in an app with several.
 * @publicApi
 */
export const REDIS_BROKER_TRANSPORT = Symbol('REDIS_BROKER_TRANSPORT');

/** The broker's events as `server.on(...)` listeners. */
type TransportEvents = { [K in keyof BrokerEventMap]: (...args: BrokerEventMap[K]) => void };

/**
 * `connected` once every consumer has started, `disconnected` once closed.
 * @publicApi
 */
export type RedisBrokerServerStatus = 'connected' | 'disconnected';

interface Listening {
  factory: RedisConnectionFactory;
  command: RedisClient;
  consumers: BrokerConsumer[];
}

/**
 * A Nest microservices transport on this library's reliable queues and stream
 * groups: `app.connectMicroservice({ strategy: new RedisBrokerServer(options) })`
 * (hybrid app) or `NestFactory.createMicroservice(AppModule, { strategy })`.
 *
 * Each `@EventPattern('orders.created')` consumes the list queue of that name
 * (or, routed to `'stream'`, the stream of that name with the consumer group
 * `group`): one consumer of the service gets each event, events wait in Redis
 * while no consumer runs, and a failing handler is retried with backoff and
 * dead-lettered, exactly as a `@QueueHandler` / `@StreamConsumer` (the same
 * consumers run them). Each `@MessagePattern('price.get')` serves the request
 * queue of that name: `BrokerClient.request('price.get', …)` and
 * `RedisBrokerClientProxy.send('price.get', …)` reach it alike; its return
 * value is the reply, and an error it throws (after Nest's exception filters:
 * an `RpcException`'s error) is the reply too, at once, not retried.
 *
 * Handler options come from `queueDefaults` / `streamDefaults`, overridden
 * per pattern by its extras: `@EventPattern('x', { redisBroker: { maxAttempts: 5 } })`.
 * Options are validated by the constructor (`InvalidBrokerOptionsError`
 * naming the option); patterns and their extras when listening (a pattern
 * must be a valid queue or stream name). `close()` stops as the module does: stop fetching,
 * let running handlers finish until `shutdownTimeoutMs`, hand back the rest.
 * @publicApi
 */
export class RedisBrokerServer
  extends Server<TransportEvents, RedisBrokerServerStatus>
  implements CustomTransportStrategy {
  override readonly transportId = REDIS_BROKER_TRANSPORT;
  protected override readonly logger = new Logger(RedisBrokerServer.name);
  private readonly options: ResolvedServerOptions;
  private readonly events = new BrokerEvents();
  private listening: Listening | undefined;

  constructor(options: RedisBrokerServerOptions = {}) {
    super();
    this.options = resolveServerOptions(options);
  }

  /** Starts one consumer per pattern; calls back with the error when a pattern or the start fails. */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      callback(error);
      return;
    }
    callback();
  }

  /** Stops every consumer (running handlers get until `shutdownTimeoutMs`), then closes the connections. */
  async close(): Promise<void> {
    const { listening } = this;
    if (!listening) return;
    this.listening = undefined;
    const deadline = Date.now() + this.options.broker.shutdownTimeoutMs;
    try {
      await Promise.all(listening.consumers.map((consumer) => consumer.stop(deadline)));
    } finally {
      consumerHealthBoard.delete(this);
      await listening.factory.onApplicationShutdown();
      this._status$.next('disconnected');
    }
  }

  /** Listens to the broker's events of this transport (`handled`, `failed`, `retried`, `deadLettered`, ...). */
  on<EventKey extends keyof TransportEvents = keyof TransportEvents, EventCallback extends TransportEvents[EventKey] = TransportEvents[EventKey]>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    (this.events as EventEmitter).on(event, callback as (...args: unknown[]) => void);
  }

  /** The command connection (an ioredis client); throws before `listen`. */
  unwrap<T>(): T {
    if (!this.listening) throw new Error('RedisBrokerServer is not listening: unwrap() has no connection yet.');
    return this.listening.command as T;
  }

  /** Liveness of this transport's consumers, as the health indicator reports them. */
  health(): ConsumerHealth[] {
    return this.listening?.consumers.map((consumer) => consumer.health()) ?? [];
  }

  private async start(): Promise<void> {
    if (this.listening) return;
    const descriptors = describeTransportHandlers(this.messageHandlers, this.options);
    const { broker } = this.options;
    const factory = new RedisConnectionFactory(broker, this.events);
    const command = factory.create('command', 'transport');
    const names = new NameRegistry(command, broker.keyPrefix);
    const consumers = descriptors.map((descriptor): BrokerConsumer => {
      // Not awaited, as the module's runner does: a Redis down at boot must not hold the start.
      void names.record(descriptor.kind, descriptor.kind === 'stream' ? descriptor.stream : descriptor.queue);
      return descriptor.kind === 'stream'
        ? new StreamGroupConsumer(descriptor, factory, command, broker, this.events)
        : new QueueConsumer(descriptor, factory, command, broker, this.events);
    });
    this.listening = { factory, command, consumers };
    consumerHealthBoard.add(this);
    try {
      await Promise.all(consumers.map((consumer) => consumer.start()));
    } catch (error) {
      await this.close();
      throw error;
    }
    this._status$.next('connected');
    if (consumers.length > 0) {
      this.logger.log(`Consuming ${consumers.map((c) => c.description).join(', ')} on ${factory.describeTarget()}`);
      // As the module's runner does: what the boot left, collected before messages wait on it.
      if (broker.collectBootGarbage) collectGarbageNow();
    }
  }
}
