import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../libs/redis-broker/src/pubsub/ring-buffer.js';

/** Shifts until empty. */
function drain<T>(buffer: RingBuffer<T>): T[] {
  const out: T[] = [];
  while (buffer.length > 0) out.push(buffer.shift()!);
  return out;
}

describe('RingBuffer', () => {
  it('returns undefined when shifted empty, and stays empty', () => {
    const buffer = new RingBuffer<number>();
    expect(buffer.shift()).toBeUndefined();
    expect(buffer.length).toBe(0);
    buffer.push(1);
    expect(buffer.shift()).toBe(1);
    expect(buffer.shift()).toBeUndefined();
    expect(buffer.length).toBe(0);
  });

  it('hands items back first in, first out', () => {
    const buffer = new RingBuffer<string>();
    for (const item of ['a', 'b', 'c']) buffer.push(item);
    expect(buffer.length).toBe(3);
    expect(drain(buffer)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the order when it grows while its items wrap around the end of the array', () => {
    const buffer = new RingBuffer<number>();
    let next = 0;
    let expected = 0;
    // Move the head to the middle of the initial 16 slots, then fill past them.
    for (let i = 0; i < 10; i += 1) buffer.push(next++);
    for (let i = 0; i < 8; i += 1) expect(buffer.shift()).toBe(expected++);
    for (let i = 0; i < 40; i += 1) buffer.push(next++);
    expect(buffer.length).toBe(42);
    expect(drain(buffer)).toEqual(Array.from({ length: 42 }, (_, i) => expected + i));
  });

  it('keeps the order over many cycles of pushes and shifts at a steady length', () => {
    const buffer = new RingBuffer<number>();
    const out: number[] = [];
    for (let i = 0; i < 1_000; i += 1) {
      buffer.push(i);
      if (i % 3 !== 0) out.push(buffer.shift()!);
    }
    out.push(...drain(buffer));
    expect(out).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  it('holds exactly a power-of-two number of items at the edge before growing', () => {
    const buffer = new RingBuffer<number>();
    for (let i = 0; i < 16; i += 1) buffer.push(i);
    expect(buffer.length).toBe(16);
    buffer.push(16);
    expect(drain(buffer)).toEqual(Array.from({ length: 17 }, (_, i) => i));
  });

  it('empties on clear, says how many it held, and works on afterwards', () => {
    const buffer = new RingBuffer<number>();
    for (let i = 0; i < 20; i += 1) buffer.push(i);
    buffer.shift();
    expect(buffer.clear()).toBe(19);
    expect(buffer.length).toBe(0);
    expect(buffer.shift()).toBeUndefined();
    expect(buffer.clear()).toBe(0);
    buffer.push(7);
    expect(drain(buffer)).toEqual([7]);
  });
});
