import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../libs/redis-broker/src/runtime/bounded-cache.js';

describe('BoundedCache', () => {
  it('builds a value once per name and returns the same one after', () => {
    const cache = new BoundedCache<{ name: string }>(10);
    let built = 0;
    const make = (name: string) => ({ name: `${name}${(built += 1)}` });
    const first = cache.get('orders', make);
    expect(cache.get('orders', make)).toBe(first);
    expect(built).toBe(1);
    expect(first.name).toBe('orders1');
  });

  it('never holds more than its bound, dropping the entry made first', () => {
    const cache = new BoundedCache<string>(3);
    const made: string[] = [];
    const make = (name: string) => {
      made.push(name);
      return name.toUpperCase();
    };
    for (const name of ['a', 'b', 'c', 'd']) cache.get(name, make);
    expect(cache.size).toBe(3);
    // 'a' was dropped: built again; 'c' and 'd' are still held.
    cache.get('c', make);
    cache.get('d', make);
    expect(made).toEqual(['a', 'b', 'c', 'd']);
    expect(cache.get('a', make)).toBe('A');
    expect(made).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(cache.size).toBe(3);
  });

  it('drops by age of creation, not of last use', () => {
    const cache = new BoundedCache<number>(2);
    let built = 0;
    const make = () => (built += 1);
    cache.get('old', make);
    cache.get('new', make);
    cache.get('old', make);
    cache.get('third', make);
    expect(built).toBe(3);
    cache.get('new', make);
    expect(built).toBe(3);
    cache.get('old', make);
    expect(built).toBe(4);
  });

  it('stays at its bound under a stream of ever new names', () => {
    const cache = new BoundedCache<number>(100);
    for (let i = 0; i < 10_000; i += 1) cache.get(`tenant-${i}`, () => i);
    expect(cache.size).toBe(100);
    expect(cache.get('tenant-9999', () => -1)).toBe(9999);
    expect(cache.get('tenant-0', () => -1)).toBe(-1);
  });
});
