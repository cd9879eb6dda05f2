// Options of the cross-process limits of one queue or stream-group handler
// (`rateLimit`, `globalConcurrency`); validation in limit-options.validation.ts.

/**
 * A rate limit shared by every process consuming one queue (or one stream
 * group): at most `max` handler starts in any window of `perMs`
 * milliseconds, counted by a sliding-window log in Redis on the Redis
 * server's clock. No burst beyond `max`.
 * @publicApi
 */
export interface RateLimitOptions {
  /** Most starts in any window of `perMs`, across all processes. A whole number from 1 to 100000. */
  max: number;
  /** Length of the sliding window, in ms. A whole number from 1 to 86400000 (one day). */
  perMs: number;
  /**
   * Limits each key separately instead of the queue as a whole (e.g. per
   * tenant or per API token): `max` per `perMs` for every distinct string it
   * returns. Called with the parsed payload and the message's context. A
   * message over its key's limit goes back to the queue's delayed set until
   * its key's window has room, without counting as a failed attempt.
   * Queues only (reliable or fast); a `@StreamConsumer` refuses it.
   */
  key?(payload: unknown, context: RateLimitKeyContext): string;
}

/**
 * What `rateLimit.key` sees of a message besides its payload: the
 * `QueueMessageContext`, typed here by the fields a key is usually made of.
 * @publicApi
 */
export interface RateLimitKeyContext {
  readonly id: string;
  readonly queue: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A rate limit as validated: `key` absent means one limit for the whole queue or group. */
export interface ResolvedRateLimit {
  max: number;
  perMs: number;
  key: ((payload: unknown, context: RateLimitKeyContext) => string) | undefined;
}
