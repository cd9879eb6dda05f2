export * from './timeline.names.js';
export * from './timeline.messages.js';
export { TimelineStore, type User, type Post } from './timeline.store.js';
export { TimelineCache, type TimelineCacheOptions } from './timeline.cache.js';
export { configFromEnv, type TimelineConfig } from './timeline.config.js';
export { OperationsModule, OperationsController } from './operations.module.js';
export { startTracing, type StopTracing } from './timeline.tracing.js';
