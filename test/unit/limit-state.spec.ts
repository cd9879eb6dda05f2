import { describe, expect, it } from 'vitest';
import { limitStateText } from '../../libs/redis-broker/src/runtime/limits/limit-state.js';

describe('the limits column of status and the dashboard', () => {
  it('is empty for a queue without limits', () => {
    expect(limitStateText(undefined)).toBe('');
  });

  it('shows the rate limit with the starts in its window, and the leases held of the global limit', () => {
    expect(limitStateText({ rateLimit: { max: 100, perMs: 1000, keyed: false, inWindow: 37 }, globalConcurrency: { limit: 5, leaseMs: 30000, held: 2 } }))
      .toBe('100/1000 ms (37 in window), 2/5 running');
  });

  it('says a keyed rate limit is per key, without a count', () => {
    expect(limitStateText({ rateLimit: { max: 10, perMs: 60000, keyed: true } })).toBe('10/60000 ms per key');
  });
});
