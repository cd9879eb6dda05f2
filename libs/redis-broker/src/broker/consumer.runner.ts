import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { RedisConnectionFactory, type RedisClient } from '../core/redis/redis-connection.factory.js';
import type { QueueHandlerDescriptor, StreamHandlerDescriptor } from '../discovery/handler-descriptor.js';
import { HandlerExplorer } from '../discovery/handler.explorer.js';
import { BrokerEventHookExplorer } from '../discovery/broker-event-hook.explorer.js';
import { BrokerEventHooks } from '../discovery/broker-event-hooks.js';
import { HandlerRegistry } from '../discovery/handler.registry.js';
import { NameRegistry } from '../core/redis/name.registry.js';
import { BrokerEvents } from '../core/events.js';
import { ChannelSubscriber } from '../pubsub/channel.subscriber.js';
import { QueueConsumer } from '../queue/queue.consumer.js';
import { StreamGroupConsumer } from '../stream/stream-group.consumer.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import type { BrokerConsumer, ConsumerHealth } from '../runtime/message-source.js';
import { collectGarbageNow } from '../runtime/boot-garbage.js';

/**
 * Starts one consumer per discovered queue or stream handler (and one
 * subscriber for all channel handlers) once the app has bootstrapped,
 * and stops them all on shutdown with a single deadline: stop fetching, let
 * running handlers finish until the deadline, hand back the rest. Connections
 * are closed afterwards by the connection factory, the command one last.
 */
@Injectable()
export class ConsumerRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ConsumerRunner.name);
  private readonly consumers: BrokerConsumer[] = [];
  private shuttingDown = false;

  constructor(
    private readonly explorer: HandlerExplorer,
    private readonly registry: HandlerRegistry,
    private readonly factory: RedisConnectionFactory,
    private readonly events: BrokerEvents,
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
    private readonly channels: ChannelSubscriber,
    private readonly names: NameRegistry,
    private readonly hookExplorer: BrokerEventHookExplorer,
    private readonly hooks: BrokerEventHooks,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const descriptor of this.explorer.explore()) this.registry.add(descriptor);
    // Before any consumer starts, so a hook hears every event from the first message on.
    this.hooks.attach(this.hookExplorer.explore(), this.registry.queues(), this.registry.streamGroups());
    if (this.options.producerOnly) return;
    for (const descriptor of this.registry.all()) {
      // All channel handlers share one subscriber: one consumer for all of them.
      if (descriptor.kind === 'channel') this.channels.register(descriptor);
      else this.consumers.push(this.createConsumer(descriptor));
      // Not awaited: a Redis that is down at boot must not hold the start. A failed record is
      // logged; the name is listed once a producer writes to it or the app restarts.
      if (descriptor.kind === 'queue') void this.names.record('queue', descriptor.queue);
      if (descriptor.kind === 'stream') void this.names.record('stream', descriptor.stream);
    }
    if (this.registry.all().some((d) => d.kind === 'channel')) this.consumers.push(this.channels);
    await Promise.all(this.consumers.map((consumer) => consumer.start()));
    if (this.consumers.length > 0) {
      this.logger.log(`Consuming ${this.consumers.map((c) => c.description).join(', ')} on ${this.factory.describeTarget()}`);
      // What the bootstrap left, collected before messages wait on it (see collectGarbageNow).
      if (this.options.collectBootGarbage) collectGarbageNow();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    try {
      await Promise.all(this.consumers.map((consumer) => consumer.stop(deadline)));
    } finally {
      // After the drain: messages finishing during shutdown still reach their hooks.
      this.hooks.detach();
    }
  }

  /** True from the moment shutdown begins. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Liveness of every consumer, for health checks. */
  health(): ConsumerHealth[] {
    return this.consumers.map((consumer) => consumer.health());
  }

  private createConsumer(descriptor: QueueHandlerDescriptor | StreamHandlerDescriptor): BrokerConsumer {
    if (descriptor.kind === 'stream') return new StreamGroupConsumer(descriptor, this.factory, this.command, this.options, this.events);
    return new QueueConsumer(descriptor, this.factory, this.command, this.options, this.events);
  }
}
