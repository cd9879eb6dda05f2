// Options of one handler (@QueueHandler, @StreamConsumer, @OnChannel) and of
// the module's defaults for them; the same options with every default applied.
// Defaults are in broker-defaults.ts, validation in handler-options.validation.ts.
import type { RateLimitOptions, ResolvedRateLimit } from './limit.options.js';
import type { BatchOptions, ResolvedBatchOptions } from './batch.options.js';

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
  /**
   * Messages fetched ahead of free handler slots, so a slot that frees takes
   * an already-fetched message instead of waiting for a fetch round trip.
   * They count as running if the process dies (the reaper counts a death
   * for them, as for the running ones); they are handed back on shutdown.
   * `auto` (default): `concurrency` when `prefetch` is 0 and `concurrency`
   * is above 1, else 0 (a set `prefetch` keeps its window, whose unstarted
   * messages are never blamed). The process then holds at most
   * `max(prefetch, concurrency + readAhead)`. A busy process holds its
   * read-ahead while other processes may be idle: 0 suits long jobs.
   */
  readAhead?: number | 'auto';
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
  /**
   * Longest one run of the handler may take, in ms; 0 (default) means no
   * limit. When it passes, `ctx.signal` is aborted (reason: a
   * `TimeoutError` DOMException), the run counts as a failed attempt
   * (retried with backoff, then dead-lettered with reason `timeout`) and its
   * concurrency slot is freed. JavaScript cannot stop a promise: a handler
   * that ignores the signal keeps running; its late result is ignored.
   */
  timeoutMs?: number;
  /**
   * A rate limit shared by every process consuming this queue (see
   * {@link RateLimitOptions} and docs/rate-limits.md). Default none.
   */
  rateLimit?: RateLimitOptions;
  /**
   * At most this many runs of this handler at once across all processes
   * (each run holds a lease in Redis that expires if its process dies, see
   * docs/rate-limits.md). Default none (only `concurrency` per process).
   */
  globalConcurrency?: number;
  /**
   * How long a `globalConcurrency` lease lives without renewal, in ms: a
   * process killed while running frees its slots this long after its last
   * renewal at the latest. A live process renews its leases every third of
   * it, however long its runs take. Default 30000.
   */
  globalConcurrencyLeaseMs?: number;
  /**
   * Hands the handler up to `batch.size` messages at once (an array, and a
   * batch context) instead of one; `concurrency` then counts batches. Only on
   * the handler itself, not in the module's defaults. See docs/batches.md.
   */
  batch?: BatchOptions;
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
  /**
   * Entries read ahead of free handler slots (pending under this consumer,
   * their idle time refreshed like the running ones), so a slot that frees
   * takes an entry already read instead of waiting for an `XREADGROUP`.
   * `auto` (default): `concurrency` when `prefetch` is 0 and `concurrency`
   * is above 1, else 0. The process then holds at most
   * `max(prefetch, concurrency + readAhead)` entries.
   */
  readAhead?: number | 'auto';
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
   * (`XPENDING ... IDLE` then `XCLAIM`): that consumer is presumed dead. Must exceed the longest
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
  /**
   * Longest one run of the handler may take, in ms; 0 (default) means no
   * limit. When it passes, `ctx.signal` is aborted (reason: a
   * `TimeoutError` DOMException), the run counts as a failed attempt
   * (redelivered with backoff, then dead-lettered with reason `timeout`) and its
   * concurrency slot is freed. JavaScript cannot stop a promise: a handler
   * that ignores the signal keeps running; its late result is ignored.
   */
  timeoutMs?: number;
  /**
   * A rate limit shared by every process consuming this group (see
   * {@link RateLimitOptions}; `key` is refused on streams and docs/rate-limits.md). Default none.
   */
  rateLimit?: RateLimitOptions;
  /**
   * At most this many runs of this handler at once across all processes
   * (each run holds a lease in Redis that expires if its process dies, see
   * docs/rate-limits.md). Default none (only `concurrency` per process).
   */
  globalConcurrency?: number;
  /**
   * How long a `globalConcurrency` lease lives without renewal, in ms: a
   * process killed while running frees its slots this long after its last
   * renewal at the latest. A live process renews its leases every third of
   * it, however long its runs take. Default 30000.
   */
  globalConcurrencyLeaseMs?: number;
  /**
   * Hands the handler up to `batch.size` messages at once (an array, and a
   * batch context) instead of one; `concurrency` then counts batches. Only on
   * the handler itself, not in the module's defaults. See docs/batches.md.
   */
  batch?: BatchOptions;
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

/** Handler options with every default applied. */
export type ResolvedQueueHandlerOptions = Required<Omit<QueueHandlerOptions, 'backoff' | 'batch' | 'rateLimit' | 'globalConcurrency' | 'globalConcurrencyLeaseMs'>> & {
  backoff: Required<BackoffOptions>;
  /** Undefined: one message per call. */
  batch?: ResolvedBatchOptions;
} & ResolvedHandlerLimits;

/** Channel listener options with every default applied. */
export type ResolvedChannelListenerOptions = Required<ChannelListenerOptions>;

/** Stream consumer options with every default applied. */
export type ResolvedStreamConsumerOptions = Required<Omit<StreamConsumerOptions, 'backoff' | 'batch' | 'rateLimit' | 'globalConcurrency' | 'globalConcurrencyLeaseMs'>> & {
  backoff: Required<BackoffOptions>;
  /** Undefined: one entry per call. */
  batch?: ResolvedBatchOptions;
} & ResolvedHandlerLimits;

/** `rateLimit` and `globalConcurrency` as validated; `globalConcurrency` 0 means none. */
export interface ResolvedHandlerLimits {
  rateLimit: ResolvedRateLimit | undefined;
  globalConcurrency: number;
  globalConcurrencyLeaseMs: number;
}
