/** Metadata key written by `@QueueHandler`. */
export const QUEUE_HANDLER_METADATA = 'nest-redis-broker:queue-handler';
/** Metadata key written by `@StreamConsumer`. */
export const STREAM_CONSUMER_METADATA = 'nest-redis-broker:stream-consumer';
/** Metadata key of the `@Payload()` / `@Ctx()` parameter map (read by `ExternalContextCreator`). */
export const BROKER_PARAM_ARGS_METADATA = 'nest-redis-broker:param-args';
/** Injection token of the validated, defaults-applied module options. */
export const RESOLVED_BROKER_OPTIONS = Symbol('nest-redis-broker:resolved-options');
/** Injection token of the shared command connection (`Redis | Cluster`). */
export const BROKER_COMMAND_CONNECTION = Symbol('nest-redis-broker:command-connection');
/**
 * The `ExecutionContext#getType()` of every broker handler invocation.
 * @publicApi
 */
export const BROKER_CONTEXT_TYPE = 'redis-broker';
/** Metadata key written by `@OnChannel`. */
export const ON_CHANNEL_METADATA = 'nest-redis-broker:on-channel';
/** Injection token of the resolved `RedisBrokerMetricsModule` options. */
export const BROKER_METRICS_OPTIONS = Symbol('nest-redis-broker:metrics-options');
/** Metadata key written by `@OnBrokerEvent` (an array: a method may carry several). */
export const ON_BROKER_EVENT_METADATA = 'nest-redis-broker:on-broker-event';
