import { BadRequestException } from '@nestjs/common';
import { NonRetryableError } from '../core/errors/non-retryable.error.js';
import { validationText } from '../core/error-text.js';

/** Why a failed run's message goes to its dead letters, and the error text recorded. */
export interface DeadLetterVerdict<Limit extends string> {
  reason: 'timeout' | 'non-retryable' | 'validation' | Limit;
  error: string;
}

/**
 * The one rule for a failed handler run, queues and streams, single messages
 * and batch items alike: a timeout on the last try, a `NonRetryableError` or a
 * `BadRequestException` (validation), or the last try → dead-letter with that
 * reason (`limitReason` for the last try: `max-attempts` or `max-deliveries`);
 * `undefined` → retry with backoff.
 */
export function deadLetterVerdict<Limit extends string>(
  error: unknown,
  text: string,
  tries: number,
  maxTries: number,
  timedOut: boolean,
  limitReason: Limit,
): DeadLetterVerdict<Limit> | undefined {
  if (timedOut && tries >= maxTries) return { reason: 'timeout', error: text };
  if (error instanceof NonRetryableError) return { reason: 'non-retryable', error: text };
  if (error instanceof BadRequestException) return { reason: 'validation', error: validationText(error) };
  if (tries >= maxTries) return { reason: limitReason, error: text };
  return undefined;
}
