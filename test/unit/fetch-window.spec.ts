import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../../libs/redis-broker/src/runtime/concurrency.limiter.js';
import { fetchWindow } from '../../libs/redis-broker/src/runtime/fetch-window.js';

describe('the fetch window of a queue or stream handler', () => {
  it('reads ahead as many messages as it runs when no prefetch is set', () => {
    expect(fetchWindow({ concurrency: 50, prefetch: 0, readAhead: 'auto' })).toEqual({ held: 100, readAhead: 50, fetchMax: 50 });
  });

  it('reads nothing ahead by default for a handler that runs one message at a time', () => {
    expect(fetchWindow({ concurrency: 1, prefetch: 0, readAhead: 'auto' })).toEqual({ held: 1, readAhead: 0, fetchMax: 1 });
    expect(fetchWindow({ concurrency: 1, prefetch: 0, readAhead: 1 })).toEqual({ held: 2, readAhead: 1, fetchMax: 1 });
  });

  it('keeps a set prefetch as the whole window, with nothing read ahead unless asked', () => {
    expect(fetchWindow({ concurrency: 2, prefetch: 6, readAhead: 'auto' })).toEqual({ held: 6, readAhead: 0, fetchMax: 3 });
    expect(fetchWindow({ concurrency: 2, prefetch: 6, readAhead: 1 })).toEqual({ held: 6, readAhead: 1, fetchMax: 3 });
    expect(fetchWindow({ concurrency: 2, prefetch: 6, readAhead: 10 })).toEqual({ held: 12, readAhead: 10, fetchMax: 6 });
  });

  it('holds only the running messages with readAhead 0, as before read-ahead', () => {
    expect(fetchWindow({ concurrency: 50, prefetch: 0, readAhead: 0 })).toEqual({ held: 50, readAhead: 0, fetchMax: 25 });
  });
});

describe('how many messages submitted now start within the read-ahead', () => {
  /** A limiter whose items run until `finish` is called with them. */
  function limiter(limit: number): { limiter: ConcurrencyLimiter<string>; finish: (item: string) => void } {
    const pending = new Map<string, () => void>();
    const l = new ConcurrencyLimiter<string>(limit, (item) => new Promise<void>((resolve) => pending.set(item, resolve)));
    return { limiter: l, finish: (item) => pending.get(item)?.() };
  }

  it('counts the free slots plus the read-ahead, less what already waits', () => {
    const { limiter: l } = limiter(3);
    expect(l.startableWithin(0)).toBe(3);
    expect(l.startableWithin(2)).toBe(5);
    for (const item of ['a', 'b', 'c', 'd']) l.submit(item);
    expect(l.active).toBe(3);
    // One waits already: of the read-ahead of 2, one place is left.
    expect(l.startableWithin(2)).toBe(1);
    expect(l.startableWithin(0)).toBe(0);
  });

  it('counts none while a solo item runs or waits, so nothing is blamed beside it', async () => {
    const { limiter: l, finish } = limiter(3);
    l.submit('a');
    l.submit('solo', true);
    expect(l.active).toBe(1);
    expect(l.startableWithin(5)).toBe(0);
    finish('a');
    await Promise.resolve();
    await Promise.resolve();
    expect(l.active).toBe(1);
    expect(l.startableWithin(5)).toBe(0);
    finish('solo');
    await Promise.resolve();
    await Promise.resolve();
    expect(l.startableWithin(5)).toBe(8);
  });

  it('forgets the solo items it hands back', () => {
    const { limiter: l } = limiter(1);
    l.submit('a');
    l.submit('solo', true);
    expect(l.takeWaiting()).toEqual(['solo']);
    expect(l.startableWithin(1)).toBe(1);
  });
});
