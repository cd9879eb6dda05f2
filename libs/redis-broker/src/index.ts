export { RedisBrokerModule } from './broker/redis-broker.module.js';
export { REDIS_BROKER_MODULE_OPTIONS } from './broker/redis-broker.module-definition.js';
export {
  BROKER_DEFAULTS,
  type BackoffOptions,
  type ChannelListenerOptions,
  type QueueHandlerOptions,
  type StreamConsumerOptions,
  type StreamTrimOptions,
  type ReplicationOptions,
  type SentinelAddress,
  type RedisBrokerModuleOptions,
  type RedisConnectionOptions,
  type ResolvedBrokerOptions,
} from './core/options/broker.options.js';
export { resolveBrokerOptions } from './core/options/module-options.validation.js';
export { redactUrl } from './core/error-text.js';
export { BROKER_COMMAND_CONNECTION, BROKER_CONTEXT_TYPE, RESOLVED_BROKER_OPTIONS } from './core/constants.js';
export { BrokerClient } from './broker/broker.client.js';
export type { EnqueueOptions } from './queue/queue.producer.js';
export { QueueHandler } from './discovery/decorators/queue-handler.decorator.js';
export { Payload, Ctx } from './discovery/decorators/param.decorators.js';
export { QueueMessageContext } from './queue/queue-delivery.js';
export { QueueDeadLetterService, type QueueDeadLetter } from './queue/queue-dead-letter.service.js';
export type { QueueDeadLetterRecord, DeadLetterReason } from './queue/queue.settler.js';
export { QueueInspector, type QueueStats } from './queue/queue.inspector.js';
export { OnChannel, type OnChannelSpec } from './discovery/decorators/on-channel.decorator.js';
export { ChannelMessageContext } from './pubsub/channel-message.context.js';
export type { ChannelSelector } from './core/channel-target.js';
export type { ChannelListener, ChannelListenerStats } from './pubsub/channel.dispatcher.js';
export type { PublishOptions } from './pubsub/channel.publisher.js';
export { ChannelSubscriptionService, type RuntimeSubscriptionOptions } from './pubsub/channel-subscription.service.js';
export { QueueKeys, StreamKeys } from './core/keys.js';
export { StreamConsumer, type StreamConsumerDefinition } from './discovery/decorators/stream-consumer.decorator.js';
export { StreamMessageContext } from './stream/stream-entry.js';
export type { AppendOptions, StreamFields } from './stream/stream.producer.js';
export type { StreamDeadLetterReason } from './stream/stream.settler.js';
export { StreamDeadLetterService, type StreamDeadLetter } from './stream/stream-dead-letter.service.js';
export {
  StreamInspector,
  type StreamStats,
  type StreamGroupStats,
  type StreamPendingSummary,
  type StreamConsumerStats,
} from './stream/stream.inspector.js';
export { NonRetryableError } from './core/errors/non-retryable.error.js';
export { ReplicationNotConfirmedError } from './core/errors/replication-not-confirmed.error.js';
export { EnqueueManyError } from './core/errors/enqueue-many.error.js';
export { InvalidBrokerOptionsError } from './core/errors/invalid-broker-options.error.js';
export { DuplicateHandlerError } from './core/errors/duplicate-handler.error.js';
export { RedisServerUnavailableError } from './core/errors/redis-server-unavailable.error.js';
export { RedisConnectionFactory, type RedisClient, type ConnectionRole } from './core/redis/redis-connection.factory.js';
export { ConsumerRunner } from './broker/consumer.runner.js';
export { HandlerRegistry } from './discovery/handler.registry.js';
export type { HandlerDescriptor, QueueHandlerDescriptor } from './discovery/handler-descriptor.js';
export type { ConsumerHealth } from './runtime/message-source.js';
export {
  BrokerEvents,
  type SourceKind,
  type HandledEvent,
  type FailedEvent,
  type RetriedEvent,
  type DeadLetteredEvent,
  type ReconnectedEvent,
  type DroppedEvent,
} from './core/events.js';
export {
  BrokerCatalog,
  type BrokerOverview,
  type ChannelStats,
  type KnownNames,
  type StreamGroupOverview,
  type StreamOverview,
} from './observability/broker-catalog.js';
export { RegistryKeys, channelName } from './core/keys.js';
export { RedisBrokerDashboardModule } from './dashboard/redis-broker-dashboard.module.js';
export type { RedisBrokerDashboardOptions } from './dashboard/dashboard.options.js';
export type { DashboardOverview, DashboardHandler } from './dashboard/dashboard-overview.service.js';
export type { ThroughputBucket, RecentFailure } from './dashboard/throughput.recorder.js';
export { DASHBOARD_ACTION_HEADER } from './dashboard/dashboard.controller.js';
