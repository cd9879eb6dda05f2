import type { RedisBrokerModuleOptions, RedisConnectionOptions } from '../core/options/broker.options.js';
import type { StreamTrimOptions } from '../core/options/handler.options.js';

/**
 * Where an `@EventPattern` lives: a reliable list queue named after the
 * pattern (`'queue'`), or a stream of that name read by a consumer group (`'stream'`).
 * @publicApi
 */
export type EventTransport = 'queue' | 'stream';

/**
 * How event patterns map to Redis, shared by `RedisBrokerServer` and
 * `RedisBrokerClientProxy`: give both the same values (for instance one
 * object spread into both options), so `emit()` writes where the handler reads.
 * `@MessagePattern` requests always travel on a list queue named after the pattern.
 * @publicApi
 */
export interface EventRouting {
  /** Where an event pattern lives unless `patterns` names it. Default `'queue'`. */
  events?: EventTransport;
  /** Per-pattern exceptions to `events`: `{ 'orders.created': 'stream' }`. */
  patterns?: Record<string, EventTransport>;
}

/**
 * Options of `new RedisBrokerServer(options)`: the module's options (connection,
 * key prefix, `queueDefaults`, `streamDefaults`, shutdown timeout, heartbeat and
 * dead-letter settings: the same meaning and defaults as in
 * `RedisBrokerModule.forRoot`), plus the event routing and the stream group.
 * `producerOnly` and `channelDefaults` do not apply to a transport and are refused.
 * @publicApi
 */
export interface RedisBrokerServerOptions extends Omit<RedisBrokerModuleOptions, 'producerOnly' | 'channelDefaults' | 'scheduleCheckMs'>, EventRouting {
  /**
   * The consumer group reading every stream-routed event pattern of this
   * server; required as soon as one pattern routes to a stream. Each service
   * has its own group: instances of one service share it (each event goes to
   * one of them), two services with two groups both get every event.
   */
  group?: string;
}

/**
 * Options of `RedisBrokerClientProxy` (the `options` of a `ClientsModule`
 * registration with `customClass: RedisBrokerClientProxy`).
 * @publicApi
 */
export interface RedisBrokerClientOptions extends EventRouting {
  /** Where Redis is, as in the module's options. Default `redis://127.0.0.1:6379`. */
  connection?: RedisConnectionOptions;
  /** The key prefix of the server it talks to. Default `''`. */
  keyPrefix?: string;
  /** How long `send()` waits for a reply, in ms. Default `BROKER_DEFAULTS.requestTimeoutMs` (30 s). */
  timeoutMs?: number;
  /** Trimming per stream name for stream-routed `emit()`, as the module's `streams`. */
  streams?: Record<string, StreamTrimOptions>;
}
