import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { InvalidBrokerOptionsError } from './errors/invalid-broker-options.error.js';
import { assertValidName } from './keys.js';
import { messages } from './messages.js';

/**
 * Where Redis is. Give a `url` (`redis://`, `rediss://` for TLS, with
 * `user:password@` for ACL users), plain ioredis `redis` options, or both (the
 * options refine the URL); or `cluster` nodes for Redis Cluster.
 * @publicApi
 */
export interface RedisConnectionOptions {
  /** A Redis URL. Default `redis://127.0.0.1:6379` when neither `url`, `redis` nor `cluster` is given. */
  url?: string;
  /** ioredis options (host, port, username, password, tls, db, ...). */
  redis?: RedisOptions;
  /** Redis Cluster startup nodes and ioredis cluster options. Exclusive with `url`. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
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
   * message is dropped. Default 10000.
   */
  bufferSize?: number;
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
    overflow: 'drop-oldest',
    concurrency: 1,
  },
  /** How often an idle subscriber connection is PINGed (liveness for health checks). */
  subscriberPingMs: 5_000,
  /** Channel messages one listener runs back to back before yielding to socket reads. */
  channelDispatchBatch: 64,
  stream: {
    startId: '0',
    concurrency: 1,
    prefetch: 0,
    maxDeliveries: 3,
    backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: true },
    parse: 'fields',
    blockTimeoutMs: 2_000,
    claimIdleMs: 30_000,
    reclaimIntervalMs: 5_000,
  },
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

const MODULE_KEYS = [
  'connection', 'keyPrefix', 'producerOnly', 'shutdownTimeoutMs', 'instanceId', 'queueDefaults',
  'heartbeatIntervalMs', 'consumerTtlMs', 'delayedPollMs', 'deadLetterMaxEntries', 'streamDefaults', 'streams',
  'channelDefaults',
] as const;
const CHANNEL_KEYS = ['parse', 'bufferSize', 'overflow', 'concurrency'] as const;
const STREAM_KEYS = [
  'startId', 'concurrency', 'prefetch', 'maxDeliveries', 'backoff', 'parse', 'blockTimeoutMs', 'claimIdleMs', 'reclaimIntervalMs',
] as const;
const TRIM_KEYS = ['maxLen', 'maxAgeMs'] as const;
const STREAM_ID = /^(\$|\d+(-\d+)?)$/;
const CONNECTION_KEYS = ['url', 'redis', 'cluster'] as const;
const QUEUE_KEYS = [
  'mode', 'concurrency', 'prefetch', 'maxAttempts', 'backoff', 'parse', 'maxMessageBytes', 'blockTimeoutMs', 'maxDeaths',
] as const;
const BACKOFF_KEYS = ['type', 'delayMs', 'maxDelayMs', 'jitter'] as const;

/** Validates module options and applies defaults; throws `InvalidBrokerOptionsError` naming the option. */
export function resolveBrokerOptions(raw: RedisBrokerModuleOptions | undefined): ResolvedBrokerOptions {
  const options = raw ?? {};
  expectRecord('options', options);
  rejectUnknown('', options, MODULE_KEYS);
  const connection = resolveConnection(options.connection);
  const keyPrefix = options.keyPrefix ?? BROKER_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || /[{}\s]/.test(keyPrefix) || keyPrefix.length > 64) {
    fail('keyPrefix', keyPrefix, 'a string of at most 64 characters without braces or white space');
  }
  const producerOnly = bool('producerOnly', options.producerOnly, BROKER_DEFAULTS.producerOnly);
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  if (typeof instanceId !== 'string' || !/^[\w.:@-]{1,128}$/.test(instanceId)) {
    fail('instanceId', instanceId, 'letters, digits and . : @ _ - (1 to 128 characters)');
  }
  const heartbeatIntervalMs = int('heartbeatIntervalMs', options.heartbeatIntervalMs, BROKER_DEFAULTS.heartbeatIntervalMs, 10);
  const consumerTtlMs = int('consumerTtlMs', options.consumerTtlMs, BROKER_DEFAULTS.consumerTtlMs, 20);
  if (consumerTtlMs <= heartbeatIntervalMs) {
    fail('consumerTtlMs', consumerTtlMs, `a number of ms greater than heartbeatIntervalMs (${heartbeatIntervalMs})`);
  }
  return {
    connection,
    keyPrefix,
    producerOnly,
    shutdownTimeoutMs: int('shutdownTimeoutMs', options.shutdownTimeoutMs, BROKER_DEFAULTS.shutdownTimeoutMs, 0),
    instanceId,
    queueDefaults: resolveQueueHandlerOptions('queueDefaults', options.queueDefaults, undefined),
    channelDefaults: resolveChannelListenerOptions('channelDefaults', options.channelDefaults, undefined),
    heartbeatIntervalMs,
    consumerTtlMs,
    delayedPollMs: int('delayedPollMs', options.delayedPollMs, BROKER_DEFAULTS.delayedPollMs, 10),
    deadLetterMaxEntries: int('deadLetterMaxEntries', options.deadLetterMaxEntries, BROKER_DEFAULTS.deadLetterMaxEntries, 0),
    streamDefaults: resolveStreamConsumerOptions('streamDefaults', options.streamDefaults, undefined),
    streams: resolveStreamTrims(options.streams),
  };
}

/**
 * Validates one handler's queue options over `base` (the module's resolved
 * defaults; the built-in ones when absent). `path` names the options in errors.
 */
export function resolveQueueHandlerOptions(
  path: string,
  raw: QueueHandlerOptions | undefined,
  base: ResolvedQueueHandlerOptions | undefined,
): ResolvedQueueHandlerOptions {
  const options = raw ?? {};
  expectRecord(path, options);
  rejectUnknown(`${path}.`, options, QUEUE_KEYS);
  const d = base ?? { ...BROKER_DEFAULTS.queue, backoff: { ...BROKER_DEFAULTS.queue.backoff } };
  const mode = oneOf(`${path}.mode`, options.mode, d.mode, ['reliable', 'fast'] as const);
  const concurrency = int(`${path}.concurrency`, options.concurrency, d.concurrency, 1, 10_000);
  const prefetch = int(`${path}.prefetch`, options.prefetch, d.prefetch, 0, 100_000);
  if (options.prefetch !== undefined && prefetch !== 0 && prefetch < concurrency) {
    fail(`${path}.prefetch`, prefetch, `0 (same as concurrency) or a whole number ≥ concurrency (${concurrency})`);
  }
  const backoffRaw = options.backoff ?? {};
  expectRecord(`${path}.backoff`, backoffRaw);
  rejectUnknown(`${path}.backoff.`, backoffRaw, BACKOFF_KEYS);
  const delayMs = int(`${path}.backoff.delayMs`, backoffRaw.delayMs, d.backoff.delayMs, 0);
  const backoff = {
    type: oneOf(`${path}.backoff.type`, backoffRaw.type, d.backoff.type, ['fixed', 'exponential'] as const),
    delayMs,
    maxDelayMs: int(`${path}.backoff.maxDelayMs`, backoffRaw.maxDelayMs, Math.max(d.backoff.maxDelayMs, delayMs), delayMs),
    jitter: bool(`${path}.backoff.jitter`, backoffRaw.jitter, d.backoff.jitter),
  };
  return {
    mode,
    concurrency,
    prefetch,
    maxAttempts: int(`${path}.maxAttempts`, options.maxAttempts, d.maxAttempts, 1, 1_000_000),
    backoff,
    parse: oneOf(`${path}.parse`, options.parse, d.parse, ['json', 'raw'] as const),
    maxMessageBytes: int(`${path}.maxMessageBytes`, options.maxMessageBytes, d.maxMessageBytes, 1, 512 * 1024 * 1024),
    blockTimeoutMs: int(`${path}.blockTimeoutMs`, options.blockTimeoutMs, d.blockTimeoutMs, 10, 600_000),
    maxDeaths: int(`${path}.maxDeaths`, options.maxDeaths, d.maxDeaths, 1, 1_000),
  };
}

/**
 * Validates one channel listener's options over `base` (the module's resolved
 * `channelDefaults`; the built-in ones when absent). `path` names them in errors.
 */
export function resolveChannelListenerOptions(
  path: string,
  raw: ChannelListenerOptions | undefined,
  base: ResolvedChannelListenerOptions | undefined,
): ResolvedChannelListenerOptions {
  const options = raw ?? {};
  expectRecord(path, options);
  rejectUnknown(`${path}.`, options, CHANNEL_KEYS);
  const d = base ?? BROKER_DEFAULTS.channel;
  return {
    parse: oneOf(`${path}.parse`, options.parse, d.parse, ['auto', 'json', 'raw'] as const),
    bufferSize: int(`${path}.bufferSize`, options.bufferSize, d.bufferSize, 1, 10_000_000),
    overflow: oneOf(`${path}.overflow`, options.overflow, d.overflow, ['drop-oldest', 'drop-newest'] as const),
    concurrency: int(`${path}.concurrency`, options.concurrency, d.concurrency, 1, 10_000),
  };
}

/**
 * Validates one stream consumer's options over `base` (the module's resolved
 * `streamDefaults`; the built-in ones when absent). `path` names them in errors.
 */
export function resolveStreamConsumerOptions(
  path: string,
  raw: StreamConsumerOptions | undefined,
  base: ResolvedStreamConsumerOptions | undefined,
): ResolvedStreamConsumerOptions {
  const options = raw ?? {};
  expectRecord(path, options);
  rejectUnknown(`${path}.`, options, STREAM_KEYS);
  const d = base ?? { ...BROKER_DEFAULTS.stream, backoff: { ...BROKER_DEFAULTS.stream.backoff } };
  const startId = options.startId ?? d.startId;
  if (typeof startId !== 'string' || !STREAM_ID.test(startId)) fail(`${path}.startId`, startId, '"0", "$" or an entry id such as "1700000000000-0"');
  const concurrency = int(`${path}.concurrency`, options.concurrency, d.concurrency, 1, 10_000);
  const prefetch = int(`${path}.prefetch`, options.prefetch, d.prefetch, 0, 100_000);
  if (options.prefetch !== undefined && prefetch !== 0 && prefetch < concurrency) {
    fail(`${path}.prefetch`, prefetch, `0 (same as concurrency) or a whole number ≥ concurrency (${concurrency})`);
  }
  const backoffRaw = options.backoff ?? {};
  expectRecord(`${path}.backoff`, backoffRaw);
  rejectUnknown(`${path}.backoff.`, backoffRaw, BACKOFF_KEYS);
  const delayMs = int(`${path}.backoff.delayMs`, backoffRaw.delayMs, d.backoff.delayMs, 0);
  const claimIdleMs = int(`${path}.claimIdleMs`, options.claimIdleMs, d.claimIdleMs, 10);
  return {
    startId,
    concurrency,
    prefetch,
    maxDeliveries: int(`${path}.maxDeliveries`, options.maxDeliveries, d.maxDeliveries, 1, 1_000_000),
    backoff: {
      type: oneOf(`${path}.backoff.type`, backoffRaw.type, d.backoff.type, ['fixed', 'exponential'] as const),
      delayMs,
      maxDelayMs: int(`${path}.backoff.maxDelayMs`, backoffRaw.maxDelayMs, Math.max(d.backoff.maxDelayMs, delayMs), delayMs),
      jitter: bool(`${path}.backoff.jitter`, backoffRaw.jitter, d.backoff.jitter),
    },
    parse: oneOf(`${path}.parse`, options.parse, d.parse, ['fields', 'json-fields'] as const),
    blockTimeoutMs: int(`${path}.blockTimeoutMs`, options.blockTimeoutMs, d.blockTimeoutMs, 10, 600_000),
    claimIdleMs,
    reclaimIntervalMs: int(`${path}.reclaimIntervalMs`, options.reclaimIntervalMs, d.reclaimIntervalMs, 10, 3_600_000),
  };
}

/** Validates trimming options (module `streams.<name>` or one append's). */
export function resolveStreamTrim(path: string, raw: StreamTrimOptions): StreamTrimOptions {
  expectRecord(path, raw);
  rejectUnknown(`${path}.`, raw, TRIM_KEYS);
  if (raw.maxLen !== undefined && raw.maxAgeMs !== undefined) fail(path, raw, 'either maxLen or maxAgeMs, not both');
  return {
    maxLen: raw.maxLen === undefined ? undefined : int(`${path}.maxLen`, raw.maxLen, 0, 1),
    maxAgeMs: raw.maxAgeMs === undefined ? undefined : int(`${path}.maxAgeMs`, raw.maxAgeMs, 0, 1),
  };
}

function resolveStreamTrims(raw: Record<string, StreamTrimOptions> | undefined): Record<string, StreamTrimOptions> {
  const streams = raw ?? {};
  expectRecord('streams', streams);
  const out: Record<string, StreamTrimOptions> = {};
  for (const [name, trim] of Object.entries(streams)) {
    assertValidName('stream', name);
    out[name] = resolveStreamTrim(`streams.${name}`, trim);
  }
  return out;
}

/** The effective prefetch window of resolved handler options. */
export function prefetchWindow(options: { prefetch: number; concurrency: number }): number {
  return Math.max(options.prefetch, options.concurrency);
}

function resolveConnection(raw: RedisConnectionOptions | undefined): RedisConnectionOptions {
  const connection = raw ?? {};
  expectRecord('connection', connection);
  rejectUnknown('connection.', connection, CONNECTION_KEYS);
  if (connection.url !== undefined) {
    if (typeof connection.url !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(connection.url)) {
      fail('connection.url', redactUrl(String(connection.url)), 'a redis:// or rediss:// URL');
    }
  }
  // Connection values may hold credentials: a wrong one is described, never echoed.
  if (connection.redis !== undefined) expectRecord('connection.redis', connection.redis, HIDDEN);
  if (connection.cluster !== undefined) {
    expectRecord('connection.cluster', connection.cluster, HIDDEN);
    if (connection.url !== undefined) {
      fail('connection.cluster', '(with connection.url)', 'either connection.url or connection.cluster, not both');
    }
    const nodes: unknown = connection.cluster.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      fail('connection.cluster.nodes', nodes, 'a non-empty array of { host, port } or "host:port"');
    }
  }
  // ioredis' own keyPrefix would sit outside the broker's hash tags (and
  // could split a queue's keys over slots: CROSSSLOT on Cluster).
  for (const [path, value] of [
    ['connection.redis.keyPrefix', connection.redis?.keyPrefix],
    ['connection.cluster.options.keyPrefix', connection.cluster?.options?.keyPrefix],
    ['connection.cluster.options.redisOptions.keyPrefix', connection.cluster?.options?.redisOptions?.keyPrefix],
  ] as const) {
    if (value !== undefined) fail(path, value, 'no value: set the module option keyPrefix instead, which keeps every queue in one Cluster slot');
  }
  if (connection.url === undefined && connection.redis === undefined && connection.cluster === undefined) {
    return { url: BROKER_DEFAULTS.url };
  }
  return connection;
}

/** Hides the password of a URL (any scheme, so a mistyped one is hidden too), for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*@)/i, (_m, scheme: string, auth: string) => {
    const user = auth.slice(0, -1).split(':')[0];
    return `${scheme}${user ? `${user}:` : ''}***@`;
  });
}

/** Shown instead of a connection value in errors, which may carry a password. */
const HIDDEN = '(value hidden: it may hold credentials)';

function expectRecord(path: string, value: unknown, shown: unknown = value): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, shown, 'an object');
}

function rejectUnknown(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(prefix + key, known));
  }
}

function int(path: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, value, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function bool(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, value, 'true or false');
  return value;
}

function oneOf<T extends string>(path: string, value: unknown, fallback: T, accepted: readonly T[]): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !accepted.includes(value as T)) fail(path, value, accepted.map((a) => `"${a}"`).join(' or '));
  return value as T;
}

function fail(path: string, value: unknown, accepted: string): never {
  throw new InvalidBrokerOptionsError(messages.invalidOption(path, value, accepted));
}
