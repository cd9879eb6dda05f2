import { describe, expect, it } from 'vitest';
import { TickBatcher } from '../../libs/redis-broker/src/runtime/tick-batcher.js';

/** A scheduler the test ends turns of by hand. */
function manualTurns(): { schedule: (run: () => void) => void; endTurn: () => void; waiting: () => number } {
  const runs: (() => void)[] = [];
  return {
    schedule: (run) => runs.push(run),
    endTurn: () => {
      for (const run of runs.splice(0)) run();
    },
    waiting: () => runs.length,
  };
}

/** Lets every queued promise reaction run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Whether `promise` has settled once queued reactions have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await settle();
  return done;
}

describe('TickBatcher', () => {
  it('flushes what one turn added in one call, in order, and gives every add the same promise', async () => {
    const turns = manualTurns();
    const flushed: number[][] = [];
    const batcher = new TickBatcher<number>(async (items) => flushed.push(items), turns.schedule);
    const calls = [batcher.add(1), batcher.add(2), batcher.add(3)];
    expect(turns.waiting()).toBe(1);
    expect(calls[1]).toBe(calls[0]);
    expect(calls[2]).toBe(calls[0]);
    expect(flushed).toEqual([]);
    turns.endTurn();
    await Promise.all(calls);
    expect(flushed).toEqual([[1, 2, 3]]);
  });

  it('starts a new batch for what is added once a turn has ended', async () => {
    const turns = manualTurns();
    const flushed: string[][] = [];
    const batcher = new TickBatcher<string>(async (items) => flushed.push(items), turns.schedule);
    const first = batcher.add('a');
    turns.endTurn();
    const second = batcher.add('b');
    expect(second).not.toBe(first);
    turns.endTurn();
    await Promise.all([first, second]);
    expect(flushed).toEqual([['a'], ['b']]);
  });

  it('rejects every add of a batch whose flush failed, and only those', async () => {
    const turns = manualTurns();
    let fail = true;
    const batcher = new TickBatcher<number>(async () => {
      if (fail) throw new Error('Redis down');
    }, turns.schedule);
    const failed = [batcher.add(1), batcher.add(2)];
    turns.endTurn();
    for (const call of failed) await expect(call).rejects.toThrow('Redis down');
    fail = false;
    const next = batcher.add(3);
    turns.endTurn();
    await expect(next).resolves.toBeUndefined();
  });

  it('rejects the batch when flush throws before returning a promise', async () => {
    const turns = manualTurns();
    const batcher = new TickBatcher<number>(() => {
      throw new Error('sync throw');
    }, turns.schedule);
    const call = batcher.add(1);
    turns.endTurn();
    await expect(call).rejects.toThrow('sync throw');
    await expect(batcher.settled()).resolves.toBeUndefined();
  });

  it('resolves settled at once when nothing was added', async () => {
    const batcher = new TickBatcher<number>(async () => undefined, manualTurns().schedule);
    expect(await isSettled(batcher.settled())).toBe(true);
  });

  it('resolves settled only once the items added so far are flushed and their call returned', async () => {
    const turns = manualTurns();
    let release!: () => void;
    const batcher = new TickBatcher<number>(() => new Promise<void>((resolve) => (release = resolve)), turns.schedule);
    void batcher.add(1);
    const settled = batcher.settled();
    expect(await isSettled(settled)).toBe(false);
    turns.endTurn();
    expect(await isSettled(settled)).toBe(false);
    release();
    expect(await isSettled(settled)).toBe(true);
  });

  it('has settled wait also for a batch added while an earlier flush was running', async () => {
    const turns = manualTurns();
    const releases: (() => void)[] = [];
    const flushed: number[][] = [];
    const batcher = new TickBatcher<number>((items) => {
      flushed.push(items);
      return new Promise<void>((resolve) => releases.push(resolve));
    }, turns.schedule);
    void batcher.add(1);
    turns.endTurn();
    const settled = batcher.settled();
    void batcher.add(2);
    releases[0]();
    expect(await isSettled(settled)).toBe(false);
    turns.endTurn();
    expect(await isSettled(settled)).toBe(false);
    releases[1]();
    expect(await isSettled(settled)).toBe(true);
    expect(flushed).toEqual([[1], [2]]);
  });

  it('resolves settled after a failed flush too', async () => {
    const turns = manualTurns();
    const batcher = new TickBatcher<number>(async () => Promise.reject(new Error('no')), turns.schedule);
    const call = batcher.add(1);
    turns.endTurn();
    await expect(call).rejects.toThrow('no');
    await expect(batcher.settled()).resolves.toBeUndefined();
  });

  it('joins what one synchronous run adds when scheduled with queueMicrotask', async () => {
    const flushed: number[][] = [];
    const batcher = new TickBatcher<number>(async (items) => flushed.push(items), queueMicrotask);
    const calls = Array.from({ length: 5 }, (_, i) => batcher.add(i));
    await Promise.all(calls);
    await batcher.add(5);
    expect(flushed).toEqual([[0, 1, 2, 3, 4], [5]]);
  });
});
