import { BROKER_DEFAULTS } from './broker-defaults.js';
import type { ResolvedHandlerLimits } from './handler.options.js';
import type { ResolvedRateLimit } from './limit.options.js';
import { expectRecord, fail, int, rejectUnknown } from './option-checks.js';

// Validation of `rateLimit` and `globalConcurrency` (queue and stream-group
// handlers); errors name the handler and the option.

const RATE_KEYS = ['max', 'perMs', 'key'] as const;
/** Most starts one window may count: the window is a sorted set of one member per start. */
const MAX_RATE = 100_000;
const MAX_WINDOW_MS = 86_400_000;

/** What the limits need to know of the other options of the same handler. */
export interface LimitContext {
  kind: 'queue' | 'stream';
  concurrency: number;
  prefetch: number;
}

/**
 * Validates `rateLimit` and `globalConcurrency` of one handler over `base`
 * (the module's defaults; none when absent). A limited handler fetches only
 * what it may start, so an explicit `prefetch` above `concurrency` is refused.
 */
export function resolveHandlerLimits(
  path: string,
  options: { rateLimit?: unknown; globalConcurrency?: unknown; globalConcurrencyLeaseMs?: unknown },
  base: ResolvedHandlerLimits | undefined,
  context: LimitContext,
): ResolvedHandlerLimits {
  const rateLimit = options.rateLimit === undefined ? base?.rateLimit : resolveRateLimit(`${path}.rateLimit`, options.rateLimit, context);
  const globalConcurrency = int(`${path}.globalConcurrency`, options.globalConcurrency, base?.globalConcurrency ?? 0, 1, 100_000);
  const globalConcurrencyLeaseMs = int(
    `${path}.globalConcurrencyLeaseMs`, options.globalConcurrencyLeaseMs, base?.globalConcurrencyLeaseMs ?? BROKER_DEFAULTS.limits.leaseMs, 100, 3_600_000,
  );
  if ((rateLimit !== undefined || globalConcurrency > 0) && context.prefetch > context.concurrency) {
    fail(`${path}.prefetch`, context.prefetch, `0 or at most concurrency (${context.concurrency}) with rateLimit or globalConcurrency: a limited consumer fetches only what it may start`);
  }
  return { rateLimit, globalConcurrency, globalConcurrencyLeaseMs };
}

function resolveRateLimit(path: string, raw: unknown, context: LimitContext): ResolvedRateLimit {
  expectRecord(path, raw);
  const options = raw as { max?: unknown; perMs?: unknown; key?: unknown };
  rejectUnknown(`${path}.`, options, RATE_KEYS);
  if (options.max === undefined) fail(`${path}.max`, undefined, `a whole number from 1 to ${MAX_RATE}`);
  if (options.perMs === undefined) fail(`${path}.perMs`, undefined, `a whole number from 1 to ${MAX_WINDOW_MS}`);
  const max = int(`${path}.max`, options.max, 0, 1, MAX_RATE);
  const perMs = int(`${path}.perMs`, options.perMs, 0, 1, MAX_WINDOW_MS);
  const { key } = options;
  if (key !== undefined && typeof key !== 'function') fail(`${path}.key`, key, 'a function (payload, context) => string');
  if (key !== undefined && context.kind === 'stream') {
    fail(`${path}.key`, '(function)', 'no key on a @StreamConsumer: per-key limits are supported on queues only');
  }
  return { max, perMs, key: key as ResolvedRateLimit['key'] };
}
