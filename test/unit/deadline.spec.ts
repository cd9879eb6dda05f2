import { describe, expect, it } from 'vitest';
import { settledBy } from '../../libs/redis-broker/src/runtime/deadline.js';

const never = new Promise<never>(() => undefined);

describe('settledBy', () => {
  it('says true for work that finished before the deadline, even one already past', async () => {
    expect(await settledBy(Promise.resolve('done'), Date.now() + 60_000)).toBe(true);
    expect(await settledBy(Promise.resolve('done'), Date.now() - 1_000)).toBe(true);
  });

  it('counts failed work as finished, without letting its rejection escape', async () => {
    expect(await settledBy(Promise.reject(new Error('boom')), Date.now() + 60_000)).toBe(true);
  });

  it('says false once the deadline passes with the work still running', async () => {
    expect(await settledBy(never, Date.now() - 1)).toBe(false);
    expect(await settledBy(never, 0)).toBe(false);
  });

  it('waits for work that finishes later, before a distant deadline', async () => {
    let finish!: () => void;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const result = settledBy(work, Date.now() + 600_000);
    setImmediate(finish);
    expect(await result).toBe(true);
  });
});
