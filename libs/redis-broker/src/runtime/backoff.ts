import type { BackoffOptions } from '../core/options/handler.options.js';

/** Delay before attempt `failedAttempt + 1`, in ms. */
export function backoffDelay(options: Required<BackoffOptions>, failedAttempt: number): number {
  const base = options.type === 'fixed' ? options.delayMs : options.delayMs * 2 ** (failedAttempt - 1);
  const capped = Math.min(base, options.maxDelayMs);
  return options.jitter ? capped / 2 + Math.random() * (capped / 2) : capped;
}
