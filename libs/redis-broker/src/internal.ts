/**
 * `nest-redis-broker/internal`: the runtime pieces the package's own CLI,
 * its tests and its benchmark reach into. NOT covered by semver: any of
 * these may change or go in a patch release. Apps use `nest-redis-broker`,
 * `nest-redis-broker/observability` and `nest-redis-broker/testing`.
 * @packageDocumentation
 */

// Options resolved as the module resolves them, and the module's DI tokens
export { resolveBrokerOptions } from './core/options/module-options.validation.js';
export type { ResolvedBrokerOptions } from './core/options/broker.options.js';
export { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from './core/constants.js';
export { REDIS_BROKER_MODULE_OPTIONS } from './broker/redis-broker.module-definition.js';

// Connections and scripts
export { RedisConnectionFactory } from './core/redis/redis-connection.factory.js';
export type { ConnectionRole } from './core/redis/redis-client.js';
export { defineBrokerScripts } from './core/redis/broker-scripts.js';
export { PushEnvelopesCommand } from './core/redis/push-envelopes.command.js';

// Discovery and the consumers it starts
export { ConsumerRunner } from './broker/consumer.runner.js';
export type { ConsumerHealth } from './runtime/message-source.js';
export { HandlerRegistry } from './discovery/handler.registry.js';
export type { HandlerDescriptor, QueueHandlerDescriptor } from './discovery/handler-descriptor.js';
export { PendingReclaimer } from './stream/pending.reclaimer.js';
export { StreamGroupReader } from './stream/stream-group.reader.js';
export { IdleConsumerPruner } from './stream/idle-consumer.pruner.js';
export type { RawStreamEntry, StreamEntry } from './stream/stream-entry.js';

// Schedules, read without the module (the CLI's `schedules` command)
export { ScheduleStore } from './schedule/schedule.store.js';
