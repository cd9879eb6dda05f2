import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BrokerClient } from './broker.client.js';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { RedisConnectionFactory, type RedisClient } from '../core/redis/redis-connection.factory.js';
import { NameRegistry } from '../core/redis/name.registry.js';
import { BrokerMetadataAccessor } from '../discovery/broker-metadata.accessor.js';
import { HandlerContextFactory } from '../discovery/handler-context.factory.js';
import { HandlerExplorer } from '../discovery/handler.explorer.js';
import { BrokerEventHookExplorer } from '../discovery/broker-event-hook.explorer.js';
import { BrokerEventHooks } from '../discovery/broker-event-hooks.js';
import { HandlerRegistry } from '../discovery/handler.registry.js';
import { BrokerEvents } from '../core/events.js';
import { ChannelSubscriptionService } from '../pubsub/channel-subscription.service.js';
import { ChannelSubscriber } from '../pubsub/channel.subscriber.js';
import { QueueDeadLetterService } from '../queue/queue-dead-letter.service.js';
import { QueueInspector } from '../queue/queue.inspector.js';
import { ConfigurableRedisBrokerModule, REDIS_BROKER_MODULE_OPTIONS } from './redis-broker.module-definition.js';
import { resolveBrokerOptions } from '../core/options/module-options.validation.js';
import type { RedisBrokerModuleOptions, ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { ConsumerRunner } from './consumer.runner.js';
import { StreamDeadLetterService } from '../stream/stream-dead-letter.service.js';
import { StreamInspector } from '../stream/stream.inspector.js';
import { ScheduledExplorer } from '../schedule/scheduled.explorer.js';
import { SchedulerService } from '../schedule/scheduler.service.js';

/**
 * Redis as a message broker for Nest: import once with `forRoot(options)` or
 * `forRootAsync({ imports, inject, useFactory })`; it is global. Handlers
 * decorated with `@QueueHandler`, `@StreamConsumer` or `@OnChannel` anywhere in the app start consuming once the
 * app has bootstrapped (unless `producerOnly`), and stop gracefully on
 * shutdown (call `app.enableShutdownHooks()` so SIGTERM triggers it);
 * methods decorated with `@OnBrokerEvent` hear the broker's lifecycle events;
 * `@Scheduled` methods and `SchedulerService` schedules fire once per tick across all processes.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RESOLVED_BROKER_OPTIONS,
      useFactory: (raw: RedisBrokerModuleOptions) => resolveBrokerOptions(raw),
      inject: [REDIS_BROKER_MODULE_OPTIONS],
    },
    { provide: BrokerEvents, useFactory: () => new BrokerEvents() },
    RedisConnectionFactory,
    {
      provide: BROKER_COMMAND_CONNECTION,
      useFactory: (factory: RedisConnectionFactory) => factory.create('command', 'shared'),
      inject: [RedisConnectionFactory],
    },
    {
      provide: NameRegistry,
      useFactory: (command: RedisClient, options: ResolvedBrokerOptions) => new NameRegistry(command, options.keyPrefix),
      inject: [BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS],
    },
    BrokerClient,
    QueueDeadLetterService,
    QueueInspector,
    StreamDeadLetterService,
    StreamInspector,
    BrokerMetadataAccessor,
    HandlerContextFactory,
    HandlerExplorer,
    HandlerRegistry,
    BrokerEventHookExplorer,
    BrokerEventHooks,
    // Before the runner: a bad @Scheduled is reported as such before its queue handler is explored.
    ScheduledExplorer,
    SchedulerService,
    ConsumerRunner,
    ChannelSubscriber,
    ChannelSubscriptionService,
  ],
  exports: [
    RESOLVED_BROKER_OPTIONS,
    BROKER_COMMAND_CONNECTION,
    BrokerEvents,
    RedisConnectionFactory,
    BrokerClient,
    QueueDeadLetterService,
    QueueInspector,
    StreamDeadLetterService,
    StreamInspector,
    HandlerRegistry,
    ConsumerRunner,
    ChannelSubscriptionService,
    SchedulerService,
  ],
})
export class RedisBrokerModule extends ConfigurableRedisBrokerModule {}
