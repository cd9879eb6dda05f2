import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../libs/redis-broker/src/core/errors/non-retryable.error.js';
import { deadLetterVerdict } from '../../libs/redis-broker/src/runtime/failure-verdict.js';

describe('deadLetterVerdict', () => {
  it('retries an ordinary failure before the last try, and dead-letters it with the limit reason on the last', () => {
    expect(deadLetterVerdict(new Error('x'), 'x', 2, 3, false, 'max-attempts')).toBeUndefined();
    expect(deadLetterVerdict(new Error('x'), 'x', 3, 3, false, 'max-deliveries')).toEqual({ reason: 'max-deliveries', error: 'x' });
  });

  it('dead-letters a timeout on the last try as timeout, and retries one before it', () => {
    expect(deadLetterVerdict(new Error('t'), 't', 1, 3, true, 'max-attempts')).toBeUndefined();
    expect(deadLetterVerdict(new Error('t'), 't', 3, 3, true, 'max-attempts')).toEqual({ reason: 'timeout', error: 't' });
  });

  it('dead-letters NonRetryableError and BadRequestException at once, the latter with its violations', () => {
    expect(deadLetterVerdict(new NonRetryableError('gone'), 'gone', 1, 3, false, 'max-attempts')).toEqual({ reason: 'non-retryable', error: 'gone' });
    const verdict = deadLetterVerdict(new BadRequestException(['name must be a string']), 'Bad Request', 1, 3, false, 'max-attempts');
    expect(verdict?.reason).toBe('validation');
    expect(verdict?.error).toContain('name must be a string');
  });
});
