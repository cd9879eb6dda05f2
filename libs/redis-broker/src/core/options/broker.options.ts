import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import type {
  ChannelListenerOptions,
  QueueHandlerOptions,
  ResolvedChannelListenerOptions,
  ResolvedQueueHandlerOptions,
  ResolvedStreamConsumerOptions,
  StreamConsumerOptions,
  StreamTrimOptions,
} from './handler.options.js';

// Options of the module (connection, key prefix, timings, handler defaults)
// and the same options with every default applied. Handler options are in
// handler.options.ts, the defaults in broker-defaults.ts, validation in
// module-options.validation.ts and replication-options.validation.ts.

/**
 * Where Redis is. Give a `url` (`redis://`, `rediss://` for TLS, with
 * `user:password@` for ACL users), plain ioredis `redis` options, or both (the
 * options refine the URL); or `cluster` nodes for Redis Cluster; or
 * `sentinels` and `name` for a master watched by Redis Sentinel.
 * @publicApi
 */
export interface RedisConnectionOptions {
  /** A Redis URL. Default `redis://127.0.0.1:6379` when neither `url`, `redis`, `cluster` nor `sentinels` is given. */
  url?: string;
  /** ioredis options (host, port, username, password, tls, db, ...; with `sentinels` also sentinelPassword, sentinelTLS, ...). */
  redis?: RedisOptions;
  /** Redis Cluster startup nodes and ioredis cluster options. Exclusive with `url` and `sentinels`. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /**
   * Redis Sentinel: the sentinels asked for the address of master `name`
   * (ioredis' `sentinels`). Every connection goes to the current master and,
   * after a failover, reconnects to the new one. Needs `name`; exclusive with
   * `url` and `cluster`.
   */
  sentinels?: SentinelAddress[];
  /** The master group name the sentinels monitor (`sentinel monitor <name> ...`). Only with `sentinels`. */
  name?: string;
}

/**
 * One Redis Sentinel process.
 * @publicApi
 */
export interface SentinelAddress {
  /** Default `127.0.0.1`. */
  host?: string;
  /** The sentinel's port (usually 26379). */
  port: number;
}

/**
 * An opt-in durable produce: after the write, `WAIT replicas replicasTimeoutMs`
 * runs on the connection that wrote (on Cluster: to the master of the key's
 * slot), and the call rejects with `ReplicationNotConfirmedError` unless that
 * many replicas have the write. Closes Redis' asynchronous-replication window
 * (a write acknowledged by a master that dies before replicating it is lost),
 * at the cost of a replica round trip per call. Durable writes share one
 * dedicated connection, since `WAIT` blocks it.
 * @publicApi
 */
export interface ReplicationOptions {
  /** Replicas that must have the write. Default 0: no `WAIT`, the write resolves once the master has it. */
  replicas?: number;
  /** Longest `WAIT` for them, in ms (only with `replicas`). Default 1000. */
  replicasTimeoutMs?: number;
}

/**
 * Options of `RedisBrokerModule.forRoot()` / `forRootAsync()`.
 * @publicApi
 */
export interface RedisBrokerModuleOptions {
  /** Where Redis is. Default `redis://127.0.0.1:6379`. */
  connection?: RedisConnectionOptions;
  /** Prepended to every key and channel the broker uses. Default `''` (plain names, as plain clients use them). */
  keyPrefix?: string;
  /** An app that only produces (an HTTP API that enqueues) sets this: no handler is started. Default false. */
  producerOnly?: boolean;
  /** How long shutdown waits for running handlers before handing their messages back. Default 10000 ms. */
  shutdownTimeoutMs?: number;
  /** Identifies this process among consumers. Default `hostname:pid:random`. */
  instanceId?: string;
  /** Defaults for every `@QueueHandler` of the app. */
  queueDefaults?: QueueHandlerOptions;
  /** Defaults for every `@OnChannel` listener and runtime channel subscription of the app. */
  channelDefaults?: ChannelListenerOptions;
  /** How often a reliable consumer proves it is alive. Default 5000 ms. */
  heartbeatIntervalMs?: number;
  /** A consumer silent this long is dead: its processing list goes back to the queue. Default 30000 ms. */
  consumerTtlMs?: number;
  /** Longest wait between two checks for due delayed or retried messages. Default 1000 ms. */
  delayedPollMs?: number;
  /** Cap of each dead-letter list (oldest dropped first); 0 keeps everything. Default 0. */
  deadLetterMaxEntries?: number;
  /**
   * How often a process with no schedule of its own checks whether Redis holds
   * one (created at run time by another replica), to take its part in firing
   * it. 0: only at boot. Default 5000 ms. See docs/schedules.md.
   */
  scheduleCheckMs?: number;
  /**
   * Runs one full garbage collection once the consumers have started, before
   * they wait on their first messages: what Nest's bootstrap left in V8's heap
   * is then not collected under traffic, which otherwise pauses a fresh
   * worker for 10–30 ms in its first seconds. The collection takes about
   * 20 ms in a small app, longer with a larger heap. Default true; false
   * leaves every collection to V8. See docs/performance.md.
   */
  collectBootGarbage?: boolean;
  /** Defaults for every `@StreamConsumer` of the app. */
  streamDefaults?: StreamConsumerOptions;
  /** Trimming per stream name, applied by `BrokerClient.append` unless the append gives its own. */
  streams?: Record<string, StreamTrimOptions>;
}

/** Module options with every default applied. */
export interface ResolvedBrokerOptions {
  connection: RedisConnectionOptions;
  keyPrefix: string;
  producerOnly: boolean;
  shutdownTimeoutMs: number;
  instanceId: string;
  queueDefaults: ResolvedQueueHandlerOptions;
  channelDefaults: ResolvedChannelListenerOptions;
  heartbeatIntervalMs: number;
  consumerTtlMs: number;
  delayedPollMs: number;
  deadLetterMaxEntries: number;
  scheduleCheckMs: number;
  collectBootGarbage: boolean;
  streamDefaults: ResolvedStreamConsumerOptions;
  streams: Record<string, StreamTrimOptions>;
}
