import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../libs/redis-broker/src/runtime/log-throttle.js';

describe('LogThrottle', () => {
  it('lets the first event through at once, counting it', () => {
    expect(new LogThrottle(1000).note(1, 5)).toBe(1);
  });

  it('holds events back within the interval and hands over their count with the next line due', () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.note(1, 0)).toBe(1);
    expect(throttle.note(1, 10)).toBeUndefined();
    expect(throttle.note(3, 999)).toBeUndefined();
    expect(throttle.note(1, 1000)).toBe(5);
    expect(throttle.note(1, 1500)).toBeUndefined();
    expect(throttle.note(2, 2000)).toBe(3);
  });

  it('counts a batch of events as that many', () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.note(7, 0)).toBe(7);
  });
});
