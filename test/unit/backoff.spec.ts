import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../libs/redis-broker/src/runtime/backoff.js';

const exponential = { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: false } as const;

describe('backoffDelay', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('waits the same delay after every failure when fixed', () => {
    const fixed = { type: 'fixed', delayMs: 250, maxDelayMs: 10_000, jitter: false } as const;
    expect([1, 2, 3, 10].map((n) => backoffDelay(fixed, n))).toEqual([250, 250, 250, 250]);
  });

  it('doubles the delay after each failure when exponential, starting from delayMs', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(exponential, n))).toEqual([100, 200, 400, 800]);
  });

  it('caps the delay at maxDelayMs, even after so many failures that the power overflows', () => {
    expect(backoffDelay(exponential, 5)).toBe(1_000);
    expect(backoffDelay(exponential, 5_000)).toBe(1_000);
    expect(backoffDelay({ type: 'fixed', delayMs: 5_000, maxDelayMs: 1_000, jitter: false }, 1)).toBe(1_000);
  });

  it('retries at once with a zero delay', () => {
    expect(backoffDelay({ ...exponential, delayMs: 0 }, 7)).toBe(0);
  });

  it('spreads a jittered delay over the upper half of the capped delay', () => {
    const jittered = { ...exponential, jitter: true };
    vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(0.5).mockReturnValueOnce(0.999_999);
    expect(backoffDelay(jittered, 3)).toBe(200);
    expect(backoffDelay(jittered, 3)).toBe(300);
    const top = backoffDelay(jittered, 3);
    expect(top).toBeLessThan(400);
    expect(top).toBeGreaterThan(399);
  });

  it('keeps a jittered delay under the cap', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect(backoffDelay({ ...exponential, jitter: true }, 50)).toBeLessThanOrEqual(1_000);
  });
});
