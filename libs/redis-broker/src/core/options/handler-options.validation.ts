import { BROKER_DEFAULTS } from './broker-defaults.js';
import type {
  BackoffOptions,
  ChannelListenerOptions,
  QueueHandlerOptions,
  ResolvedChannelListenerOptions,
  ResolvedQueueHandlerOptions,
  ResolvedStreamConsumerOptions,
  StreamConsumerOptions,
  StreamTrimOptions,
} from './handler.options.js';

// Validation of handler options (@QueueHandler, @StreamConsumer, @OnChannel)
// over the module's defaults; errors name the handler and the option.
import { bool, expectRecord, fail, int, oneOf, rejectUnknown } from './option-checks.js';
import { resolveHandlerLimits } from './limit-options.validation.js';
import { resolveBatchOptions } from './batch.options.js';

const CHANNEL_KEYS = ['parse', 'bufferSize', 'maxBufferBytes', 'overflow', 'concurrency'] as const;
const STREAM_KEYS = [
  'startId', 'concurrency', 'prefetch', 'readAhead', 'maxDeliveries', 'backoff', 'parse', 'maxMessageBytes', 'blockTimeoutMs', 'claimIdleMs',
  'reclaimIntervalMs', 'idleConsumerTtlMs', 'timeoutMs', 'rateLimit', 'globalConcurrency',
  'globalConcurrencyLeaseMs', 'batch',
] as const;
const TRIM_KEYS = ['maxLen', 'maxAgeMs'] as const;
const STREAM_ID = /^(\$|\d+(-\d+)?)$/;
const QUEUE_KEYS = [
  'mode', 'concurrency', 'prefetch', 'readAhead', 'maxAttempts', 'backoff', 'parse', 'maxMessageBytes', 'blockTimeoutMs', 'maxDeaths', 'timeoutMs', 'rateLimit',
  'globalConcurrency', 'globalConcurrencyLeaseMs', 'batch',
] as const;
/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;
const BACKOFF_KEYS = ['type', 'delayMs', 'maxDelayMs', 'jitter'] as const;

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
  const { concurrency, prefetch, readAhead } = resolveWindow(path, options, d);
  const backoff = resolveBackoff(`${path}.backoff`, options.backoff, d.backoff);
  return exclusiveOptions(path, {
    mode,
    concurrency,
    prefetch,
    readAhead,
    maxAttempts: int(`${path}.maxAttempts`, options.maxAttempts, d.maxAttempts, 1, 1_000_000),
    backoff,
    parse: oneOf(`${path}.parse`, options.parse, d.parse, ['json', 'raw'] as const),
    maxMessageBytes: int(`${path}.maxMessageBytes`, options.maxMessageBytes, d.maxMessageBytes, 1, 512 * 1024 * 1024),
    blockTimeoutMs: int(`${path}.blockTimeoutMs`, options.blockTimeoutMs, d.blockTimeoutMs, 10, 600_000),
    maxDeaths: int(`${path}.maxDeaths`, options.maxDeaths, d.maxDeaths, 1, 1_000),
    timeoutMs: int(`${path}.timeoutMs`, options.timeoutMs, d.timeoutMs, 0, MAX_TIMER_MS),
    ...resolveHandlerLimits(path, options, base, { kind: 'queue', concurrency, prefetch }),
    // Never inherited: a batch changes the handler's signature.
    batch: resolveBatchOptions(`${path}.batch`, options.batch),
  });
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
    maxBufferBytes: int(`${path}.maxBufferBytes`, options.maxBufferBytes, d.maxBufferBytes, 1, 4 * 1024 * 1024 * 1024),
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
  const { concurrency, prefetch, readAhead } = resolveWindow(path, options, d);
  const claimIdleMs = int(`${path}.claimIdleMs`, options.claimIdleMs, d.claimIdleMs, 10);
  const blockTimeoutMs = int(`${path}.blockTimeoutMs`, options.blockTimeoutMs, d.blockTimeoutMs, 10, 600_000);
  const idleConsumerTtlMs = int(`${path}.idleConsumerTtlMs`, options.idleConsumerTtlMs, d.idleConsumerTtlMs, 20);
  if (idleConsumerTtlMs <= blockTimeoutMs) {
    fail(`${path}.idleConsumerTtlMs`, idleConsumerTtlMs, `a number of ms greater than blockTimeoutMs (${blockTimeoutMs})`);
  }
  return exclusiveOptions(path, {
    startId,
    concurrency,
    prefetch,
    readAhead,
    maxDeliveries: int(`${path}.maxDeliveries`, options.maxDeliveries, d.maxDeliveries, 1, 1_000_000),
    backoff: resolveBackoff(`${path}.backoff`, options.backoff, d.backoff),
    parse: oneOf(`${path}.parse`, options.parse, d.parse, ['fields', 'json-fields'] as const),
    maxMessageBytes: int(`${path}.maxMessageBytes`, options.maxMessageBytes, d.maxMessageBytes, 1, 512 * 1024 * 1024),
    blockTimeoutMs,
    claimIdleMs,
    reclaimIntervalMs: int(`${path}.reclaimIntervalMs`, options.reclaimIntervalMs, d.reclaimIntervalMs, 10, 3_600_000),
    idleConsumerTtlMs,
    timeoutMs: int(`${path}.timeoutMs`, options.timeoutMs, d.timeoutMs, 0, MAX_TIMER_MS),
    ...resolveHandlerLimits(path, options, base, { kind: 'stream', concurrency, prefetch }),
    // Never inherited: a batch changes the handler's signature.
    batch: resolveBatchOptions(`${path}.batch`, options.batch),
  });
}

/**
 * `concurrency`, `prefetch` and `readAhead` of a queue or stream handler; an
 * explicit prefetch below concurrency is refused.
 */
function resolveWindow(
  path: string,
  options: { concurrency?: number; prefetch?: number; readAhead?: number | 'auto' },
  d: { concurrency: number; prefetch: number; readAhead: number | 'auto' },
): { concurrency: number; prefetch: number; readAhead: number | 'auto' } {
  const concurrency = int(`${path}.concurrency`, options.concurrency, d.concurrency, 1, 10_000);
  const prefetch = int(`${path}.prefetch`, options.prefetch, d.prefetch, 0, 100_000);
  if (options.prefetch !== undefined && prefetch !== 0 && prefetch < concurrency) {
    fail(`${path}.prefetch`, prefetch, `0 (same as concurrency) or a whole number ≥ concurrency (${concurrency})`);
  }
  const readAhead = options.readAhead ?? d.readAhead;
  if (readAhead !== 'auto' && (typeof readAhead !== 'number' || !Number.isInteger(readAhead) || readAhead < 0 || readAhead > 100_000)) {
    fail(`${path}.readAhead`, readAhead, '"auto" or a whole number from 0 to 100000');
  }
  return { concurrency, prefetch, readAhead };
}

/** Retry spacing of a queue or stream handler over `d`, the defaults in force. */
function resolveBackoff(path: string, raw: BackoffOptions | undefined, d: Required<BackoffOptions>): Required<BackoffOptions> {
  const options = raw ?? {};
  expectRecord(path, options);
  rejectUnknown(`${path}.`, options, BACKOFF_KEYS);
  const delayMs = int(`${path}.delayMs`, options.delayMs, d.delayMs, 0);
  return {
    type: oneOf(`${path}.type`, options.type, d.type, ['fixed', 'exponential'] as const),
    delayMs,
    maxDelayMs: int(`${path}.maxDelayMs`, options.maxDelayMs, Math.max(d.maxDelayMs, delayMs), delayMs),
    jitter: bool(`${path}.jitter`, options.jitter, d.jitter),
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

/**
 * The effective prefetch window of resolved handler options, without the
 * read-ahead: the most acks a queue consumer leaves outstanding.
 */
export function prefetchWindow(options: { prefetch: number; concurrency: number }): number {
  return Math.max(options.prefetch, options.concurrency);
}

/**
 * Limits count single starts and leases per message, and the key of a
 * `rateLimit` is read per payload: a batch handler takes neither. Batches
 * gather their own messages and a limited consumer fetches only what it may
 * start, so neither reads ahead: `readAhead` resolves to 0 for both.
 */
function exclusiveOptions<T extends { batch?: unknown; rateLimit: unknown; globalConcurrency: number; readAhead: number | 'auto' }>(path: string, resolved: T): T {
  const limited = resolved.rateLimit !== undefined || resolved.globalConcurrency > 0;
  if (resolved.batch !== undefined && limited) {
    fail(`${path}.batch`, resolved.batch, 'no batch on a handler with rateLimit or globalConcurrency (limits count single messages)');
  }
  if (resolved.batch === undefined && !limited) return resolved;
  if (resolved.readAhead !== 'auto' && resolved.readAhead > 0) {
    fail(`${path}.readAhead`, resolved.readAhead, '0 or "auto" on a batch handler or one with rateLimit or globalConcurrency (they read nothing ahead)');
  }
  return { ...resolved, readAhead: 0 };
}
