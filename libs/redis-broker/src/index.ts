// The public API of `nest-redis-broker`: what the README and docs/ describe,
// and nothing else. Each export is re-exported from the layer that owns it.
// Pieces the CLI, the tests and the bench need besides these are in
// `nest-redis-broker/internal`, which semver does not cover.

// Module and options
export { RedisBrokerModule } from './broker/redis-broker.module.js';
export { BROKER_DEFAULTS } from './core/options/broker-defaults.js';
export type {
  RedisBrokerModuleOptions,
  RedisConnectionOptions,
  ReplicationOptions,
  SentinelAddress,
} from './core/options/broker.options.js';
export type {
  BackoffOptions,
  ChannelListenerOptions,
  QueueHandlerOptions,
  StreamConsumerOptions,
  StreamTrimOptions,
} from './core/options/handler.options.js';
export type { RateLimitOptions, RateLimitKeyContext } from './core/options/limit.options.js';
export { type LimitState, limitStateText } from './runtime/limits/limit-state.js';
export { type BatchSetting, batchSettingText } from './runtime/batch-setting.js';
export type { BatchOptions } from './core/options/batch.options.js';
export { BROKER_CONTEXT_TYPE } from './core/constants.js';
export type { RedisClient } from './core/redis/redis-client.js';
export { redactUrl } from './core/error-text.js';

// Producing
export { BrokerClient } from './broker/broker.client.js';
export type { EnqueueOptions } from './queue/queue.producer.js';
export type { RequestOptions } from './queue/queue.requester.js';
export type { AppendOptions, StreamFields } from './stream/stream.producer.js';
export type { PublishOptions } from './pubsub/channel.publisher.js';

// Handlers
export { QueueHandler } from './discovery/decorators/queue-handler.decorator.js';
export { StreamConsumer, type StreamConsumerDefinition } from './discovery/decorators/stream-consumer.decorator.js';
export { OnChannel, type OnChannelSpec } from './discovery/decorators/on-channel.decorator.js';
export { Payload, Ctx, BrokerPayload, BrokerCtx } from './discovery/decorators/param.decorators.js';
export type { ChannelSelector } from './core/channel-target.js';
export { QueueMessageContext } from './queue/queue-delivery.js';
export { StreamMessageContext } from './stream/stream-entry.js';
export { BatchResult } from './core/batch-result.js';
export { QueueBatchContext } from './queue/queue-batch.context.js';
export { StreamBatchContext } from './stream/stream-batch.context.js';
export { ChannelMessageContext } from './pubsub/channel-message.context.js';
export { ChannelSubscriptionService, type RuntimeSubscriptionOptions } from './pubsub/channel-subscription.service.js';
export type { ChannelListener, ChannelListenerStats } from './pubsub/channel-listener.js';

// Lifecycle hooks
export {
  OnBrokerEvent,
  type BrokerEventName,
  type BrokerEventFilter,
} from './discovery/decorators/on-broker-event.decorator.js';
export type { BrokerHookEvent, BrokerHookEventMap, BrokerContextByKind } from './broker/broker-hook.events.js';

// Errors
export { NonRetryableError } from './core/errors/non-retryable.error.js';
export { ReplicationNotConfirmedError } from './core/errors/replication-not-confirmed.error.js';
export { RequestFailedError } from './core/errors/request-failed.error.js';
export { RequestTimeoutError } from './core/errors/request-timeout.error.js';
export { EnqueueManyError } from './core/errors/enqueue-many.error.js';
export { InvalidBrokerOptionsError } from './core/errors/invalid-broker-options.error.js';
export { DuplicateHandlerError } from './core/errors/duplicate-handler.error.js';
export { RedisServerUnavailableError } from './core/errors/redis-server-unavailable.error.js';

// Operations: dead letters, counts, events, keys; the CLI and the dashboard share these
export { QueueDeadLetterService, type QueueDeadLetter } from './queue/queue-dead-letter.service.js';
export type { QueueDeadLetterRecord, DeadLetterReason } from './queue/queue.settler.js';
export { StreamDeadLetterService, type StreamDeadLetter } from './stream/stream-dead-letter.service.js';
export type { StreamDeadLetterReason } from './stream/stream.settler.js';
export { QueueInspector, type QueueStats } from './queue/queue.inspector.js';
export {
  StreamInspector,
  type StreamStats,
  type StreamGroupStats,
  type StreamPendingSummary,
  type StreamConsumerStats,
} from './stream/stream.inspector.js';
export {
  BrokerCatalog,
  type BrokerOverview,
  type ChannelStats,
  type KnownNames,
  type StreamGroupOverview,
  type QueueOverview,
  type StreamOverview,
} from './observability/broker-catalog.js';
export {
  BrokerEvents,
  type SourceKind,
  type HandledEvent,
  type FailedEvent,
  type RetriedEvent,
  type DeadLetteredEvent,
  type ReconnectedEvent,
  type DroppedEvent,
  type ReclaimedEvent,
  type LimitedEvent,
} from './core/events.js';
export { QueueKeys, StreamKeys, RegistryKeys, LimitKeys, channelName } from './core/keys.js';

// Schedules
export { Scheduled } from './schedule/scheduled.decorator.js';
export { SchedulerService } from './schedule/scheduler.service.js';
export type { ScheduledOptions, ScheduleTiming, ScheduleTarget, ScheduleInfo, StoredTiming } from './schedule/schedule.options.js';
export { ScheduleKeys } from './core/keys.js';

// Dashboard
export { RedisBrokerDashboardModule } from './dashboard/redis-broker-dashboard.module.js';
export type { RedisBrokerDashboardOptions } from './dashboard/dashboard.options.js';
export type { DashboardOverview, DashboardHandler } from './dashboard/dashboard-overview.service.js';
export type { ThroughputBucket, RecentFailure } from './dashboard/throughput.recorder.js';
export { DASHBOARD_ACTION_HEADER } from './dashboard/dashboard.controller.js';
