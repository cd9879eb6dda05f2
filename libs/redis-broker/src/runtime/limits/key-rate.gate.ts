import type { LimitKeys } from '../../core/keys.js';
import type { RateLimitKeyContext } from '../../core/options/limit.options.js';
import type { RateWindow } from './rate-window.js';

/** Longest key `rateLimit.key` may return (it becomes part of a Redis key name). */
const MAX_KEY_LENGTH = 200;

/**
 * `rateLimit.key`: a rate window per key, checked once a message is read
 * (its key is known only then). A message over its key's limit is not run:
 * the caller defers it until the key's window has room.
 */
export class KeyRateGate {
  constructor(
    private readonly window: RateWindow,
    private readonly keys: LimitKeys,
    private readonly keyOf: (payload: unknown, context: RateLimitKeyContext) => string,
  ) {}

  /** The message's key; throws when `rateLimit.key` throws or returns no usable key (the run then fails). */
  keyFor(payload: unknown, context: RateLimitKeyContext): string {
    const key: unknown = this.keyOf(payload, context);
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new Error(`rateLimit.key returned ${JSON.stringify(key)}; expected a string of 1 to ${MAX_KEY_LENGTH} characters`);
    }
    return key;
  }

  /** Counts one start for `key` now: 0, or (nothing counted) the ms until its window has room. */
  admit(key: string): Promise<number> {
    return this.window.take(this.keys.keyedRate(key));
  }
}
