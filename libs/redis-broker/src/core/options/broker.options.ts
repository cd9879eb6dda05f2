import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

// Option types and the one defaults object. Validation lives in options/:
// module-options.validation.ts, handler-options.validation.ts, option-checks.ts.

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
 * How retries are spaced: `fixed` waits `delayMs` every time; `exponential`
 * waits `delayMs * 2^(attempt-1)`, capped at `maxDelayMs`, with full jitter
 * when `jitter` is on.
 * @publicApi
 */
export interface BackoffOptions {
  /** Default `exponential`. */
  type?: 'fixed' | 'exponential';
  /** Base delay in ms. Default 1000. */
  delayMs?: number;
  /** Upper bound of one delay in ms. Default 60000. */
  maxDelayMs?: number;
  /** Randomise each delay in [delay/2, delay] so retries of a burst spread out. Default true. */
  jitter?: boolean;
}

/**
 * Options of one `@QueueHandler`. Every field falls back to the module's
 * `queueDefaults`, then to the built-in defaults.
 * @publicApi
 */
export interface QueueHandlerOptions {
  /**
   * `reliable` (default): each message is moved atomically (`BLMOVE`) into this
   * consumer's processing list and removed only once handled, so a crash loses
   * nothing (at-least-once). `fast`: the design notes' `BRPOP` loop; a message
   * is gone from Redis once popped, so a crash loses what was in flight
   * (at-most-once).
   */
  mode?: 'reliable' | 'fast';
  /** Handlers running at once in this process. Default 1. */
  concurrency?: number;
  /**
   * Most messages this process holds at once (running plus waiting), and so
   * the most fetched in one round trip. Default 0, meaning `concurrency`; a
   * smaller value than `concurrency` counts as `concurrency`.
   */
  prefetch?: number;
  /** Deliveries before a failing message goes to the dead-letter list. Default 3. */
  maxAttempts?: number;
  /** Spacing of retries. */
  backoff?: BackoffOptions;
  /** `json` (default): the payload is `JSON.parse`d, unparsable text is dead-lettered. `raw`: the handler gets the string as it is. */
  parse?: 'json' | 'raw';
  /** Largest message accepted, in bytes; a larger one is dead-lettered unread. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Longest a blocking pop waits before looping, in ms. Default 2000. */
  blockTimeoutMs?: number;
  /** Reliable mode: after a message's consumer died this many times while running it, it is quarantined as poison. Default 3. */
  maxDeaths?: number;
}

/**
 * Options of one `@OnChannel` listener (or a runtime subscription). Every
 * field falls back to the module's `channelDefaults`, then to the built-in
 * defaults.
 * @publicApi
 */
export interface ChannelListenerOptions {
  /**
   * `auto` (default): the message is `JSON.parse`d when it parses, otherwise
   * the handler gets the string (so `PUBLISH hello world` gives `'world'`, and
   * `PUBLISH n 42` gives the number 42). `json`: unparsable messages are
   * logged and skipped. `raw`: always the string.
   */
  parse?: 'auto' | 'json' | 'raw';
  /**
   * Most messages waiting for this handler in process memory. The socket is
   * always read at full speed (so Redis never disconnects the subscriber for
   * a full output buffer); when this buffer is full, `overflow` decides which
   * message is dropped. A message that arrives while the handler has a free
   * run slot and nothing waits runs at once without entering the buffer, so a
   * handler that keeps up never drops. Default 10000.
   */
  bufferSize?: number;
  /**
   * Most bytes (UTF-8, as received) of the messages waiting in `bufferSize`:
   * the bound that matters for large messages. The buffer is full when either
   * bound is reached; a single message larger than this is dropped unless it
   * can run at once. Default 32 MiB.
   */
  maxBufferBytes?: number;
  /**
   * What a full buffer drops: `drop-oldest` (default; the handler stays
   * current) or `drop-newest` (the arriving message). Each drop is counted,
   * emitted as a `dropped` event and logged (throttled).
   */
  overflow?: 'drop-oldest' | 'drop-newest';
  /** Handler runs at once for this listener; 1 (default) keeps the publish order. */
  concurrency?: number;
}

/**
 * Options of one `@StreamConsumer` (besides `stream`, `group`, `consumer`).
 * Every field falls back to the module's `streamDefaults`, then to the
 * built-in defaults.
 * @publicApi
 */
export interface StreamConsumerOptions {
  /**
   * Where a group created by the consumer starts: `'0'` (default, as in the
   * design notes) reads the stream's whole history, `'$'` only entries added
   * after creation, or an entry id. An existing group keeps its position.
   */
  startId?: string;
  /** Handlers running at once in this process. Default 1. */
  concurrency?: number;
  /** Most entries this process holds at once (running plus waiting), so the `COUNT` of one read. Default 0, meaning `concurrency`. */
  prefetch?: number;
  /** Deliveries (as Redis counts them) before a failing entry goes to the dead-letter stream. Default 3. */
  maxDeliveries?: number;
  /** Spacing of redeliveries after a failure (measured from the failure). */
  backoff?: BackoffOptions;
  /**
   * `fields` (default): the handler gets the entry's fields as a flat object
   * of strings. `json-fields`: a field value that starts with `{` or `[` is
   * `JSON.parse`d (an unparsable one dead-letters the entry at once); other
   * values stay strings.
   */
  parse?: 'fields' | 'json-fields';
  /**
   * Largest entry a handler is given, in bytes (UTF-8 of every field name and
   * value); a larger one goes to the dead-letter stream unrun (`too-large`)
   * and the consumer goes on. Default 1 MiB.
   */
  maxMessageBytes?: number;
  /** Longest one `XREADGROUP ... BLOCK` waits before looping, in ms. Default 2000. */
  blockTimeoutMs?: number;
  /**
   * An entry pending this long in another consumer's list is taken over
   * (`XAUTOCLAIM`): that consumer is presumed dead. Must exceed the longest
   * handler run, or a slow entry runs twice. Default 30000 ms.
   */
  claimIdleMs?: number;
  /** How often pending entries are checked for retries and takeover, in ms. Default 5000. */
  reclaimIntervalMs?: number;
  /**
   * A consumer of the group with nothing pending and idle this long is
   * deleted from it (`XGROUP DELCONSUMER`), so restarts under fresh consumer
   * names do not pile up; checked every half of it, so a dead consumer goes
   * within about 1.5 times this. A live consumer deleted while it reads
   * nothing is recreated by its next read. Must exceed `blockTimeoutMs`.
   * Default 3600000 ms (1 hour).
   */
  idleConsumerTtlMs?: number;
}

/**
 * Trimming of one stream on every append, so its memory stays bounded.
 * Trimming is approximate (`~`): Redis removes whole internal nodes, so the
 * stream may briefly hold up to one node (100 entries by default) more.
 * @publicApi
 */
export interface StreamTrimOptions {
  /** `MAXLEN ~ n`: keep about the newest n entries. */
  maxLen?: number;
  /** `MINID ~ (now - maxAgeMs)`: drop entries older than this many ms. */
  maxAgeMs?: number;
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
  /** Defaults for every `@StreamConsumer` of the app. */
  streamDefaults?: StreamConsumerOptions;
  /** Trimming per stream name, applied by `BrokerClient.append` unless the append gives its own. */
  streams?: Record<string, StreamTrimOptions>;
}

/** Handler options with every default applied. */
export type ResolvedQueueHandlerOptions = Required<Omit<QueueHandlerOptions, 'backoff'>> & {
  backoff: Required<BackoffOptions>;
};

/** Channel listener options with every default applied. */
export type ResolvedChannelListenerOptions = Required<ChannelListenerOptions>;

/** Stream consumer options with every default applied. */
export type ResolvedStreamConsumerOptions = Required<Omit<StreamConsumerOptions, 'backoff'>> & {
  backoff: Required<BackoffOptions>;
};

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
  streamDefaults: ResolvedStreamConsumerOptions;
  streams: Record<string, StreamTrimOptions>;
}

/** Every default of the library, in one object. */
export const BROKER_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: '',
  producerOnly: false,
  shutdownTimeoutMs: 10_000,
  heartbeatIntervalMs: 5_000,
  consumerTtlMs: 30_000,
  delayedPollMs: 1_000,
  deadLetterMaxEntries: 0,
  delayedPromoteBatch: 500,
  deadLetterRequeueBatch: 500,
  fetchErrorBackoffMs: { initial: 100, max: 5_000 },
  logThrottleMs: 10_000,
  stopGraceMs: 2_000,
  /** How often a Cluster's sharded-subscriber client re-reads the slot map, unless `slotsRefreshInterval` is set. */
  shardedSlotsRefreshMs: 5_000,
  /** How long an `enqueue`/`append` with `replicas` waits for them (`WAIT` timeout). */
  replicasTimeoutMs: 1_000,
  /** Slot redirections (`MOVED`, `ASK`, `TRYAGAIN`) a replicated write follows before failing. */
  replicatedWriteRedirections: 16,
  /** Pause before a replicated write is sent again after `TRYAGAIN` / `CLUSTERDOWN`. */
  replicatedWriteRetryMs: 100,
  observability: {
    metricPrefix: 'nrb_',
    durationBucketsSeconds: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    /** Longest a scrape waits for Redis counts before serving the previous values. */
    scrapeTimeoutMs: 1_000,
    /** Longest the health PING may take. */
    pingTimeoutMs: 1_000,
    /** Slack over a consumer's blockTimeoutMs before its loop counts as stuck. */
    stuckMarginMs: 5_000,
  },
  queue: {
    mode: 'reliable',
    concurrency: 1,
    prefetch: 0,
    maxAttempts: 3,
    backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: true },
    parse: 'json',
    maxMessageBytes: 1024 * 1024,
    blockTimeoutMs: 2_000,
    maxDeaths: 3,
  },
  channel: {
    parse: 'auto',
    bufferSize: 10_000,
    maxBufferBytes: 32 * 1024 * 1024,
    overflow: 'drop-oldest',
    concurrency: 1,
  },
  /** How often an idle subscriber connection is PINGed (liveness for health checks). */
  subscriberPingMs: 5_000,
  /** Buffered channel messages one listener runs between two checks of its CPU time slice. */
  channelDispatchBatch: 64,
  /** CPU time (ms) one listener's buffered messages may run back to back before yielding to socket reads. */
  channelDispatchSliceMs: 50,
  stream: {
    startId: '0',
    concurrency: 1,
    prefetch: 0,
    maxDeliveries: 3,
    backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: true },
    parse: 'fields',
    maxMessageBytes: 1024 * 1024,
    blockTimeoutMs: 2_000,
    claimIdleMs: 30_000,
    reclaimIntervalMs: 5_000,
    idleConsumerTtlMs: 3_600_000,
  },
  /** Queue and stream names whose keys each producer keeps built (the oldest made is dropped first). */
  producerKeyCacheSize: 1_000,
  /** Pending entries looked at per reclaim step. */
  streamReclaimBatch: 100,
  /** Dead-letter entries requeued per script call. */
  streamRequeueBatch: 100,
  /** `RedisBrokerDashboardModule.register()`. */
  dashboard: {
    path: 'broker',
    refreshIntervalMs: 2_000,
    /** Width of one throughput bar. */
    throughputBucketMs: 10_000,
    /** Bars kept: 10 minutes of 10 s. */
    throughputBuckets: 60,
    /** Failures kept for the "recent failures" table. */
    recentFailures: 50,
    /** Dead letters shown per page. */
    deadLetterPage: 50,
  },
} as const;
