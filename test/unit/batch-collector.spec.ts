import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BatchCollector } from '../../libs/redis-broker/src/runtime/batch-collector.js';
import { BatchResult, batchFailures } from '../../libs/redis-broker/src/core/batch-result.js';

/** A collector whose batches are recorded and settled by hand. */
function recording(size: number, maxWaitMs: number) {
  const batches: number[][] = [];
  const finish: (() => void)[] = [];
  const collector = new BatchCollector<number>(size, maxWaitMs, (items) => {
    batches.push(items);
    return new Promise<void>((resolve) => finish.push(resolve));
  });
  return { collector, batches, finish };
}

describe('BatchCollector', () => {
  it('runs a batch as soon as it holds size items, in arrival order', () => {
    const { collector, batches } = recording(3, 60_000);
    for (let i = 0; i < 7; i += 1) void collector.add(i);
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(collector.gathered).toBe(1);
  });

  it('runs a partial batch maxWaitMs after its first item arrived', async () => {
    const { collector, batches } = recording(10, 30);
    void collector.add(1);
    void collector.add(2);
    expect(batches).toEqual([]);
    // Waits on the condition (the timer has fired once the batch is there), bounded.
    const giveUp = Date.now() + 5_000;
    while (batches.length === 0 && Date.now() < giveUp) await sleep(5);
    expect(batches).toEqual([[1, 2]]);
  });

  it('with maxWaitMs 0, runs what one synchronous run added together', async () => {
    const { collector, batches } = recording(10, 0);
    void collector.add(1);
    void collector.add(2);
    void collector.add(3);
    await Promise.resolve();
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('settles every item of a batch when its run settles, not before', async () => {
    const { collector, finish } = recording(2, 60_000);
    let settled = 0;
    void collector.add(1).then(() => (settled += 1));
    void collector.add(2).then(() => (settled += 1));
    await sleep(1);
    expect(settled).toBe(0);
    finish[0]();
    await sleep(1);
    expect(settled).toBe(2);
  });

  it('runs a solo item as a batch of its own, leaving the gathered ones gathering', () => {
    const { collector, batches } = recording(5, 60_000);
    void collector.add(1);
    void collector.add(9, true);
    expect(batches).toEqual([[9]]);
    expect(collector.gathered).toBe(1);
  });

  it('on close, runs what is gathered at once and no longer waits for more', async () => {
    const { collector, batches } = recording(5, 60_000);
    void collector.add(1);
    collector.close();
    expect(batches).toEqual([[1]]);
    void collector.add(2);
    await Promise.resolve();
    expect(batches).toEqual([[1], [2]]);
  });
});

describe('batchFailures', () => {
  it('reads no failure from anything but a BatchResult with failures', () => {
    expect(batchFailures(undefined, 3)).toEqual({ failures: undefined });
    expect(batchFailures(['x'], 3)).toEqual({ failures: undefined });
    expect(batchFailures(new BatchResult(), 3)).toEqual({ failures: undefined });
  });

  it('places each failure at its index, undefined for the items that succeeded', () => {
    const boom = new Error('boom');
    const { failures } = batchFailures(new BatchResult().fail(2, boom).fail(0, 'bad'), 4);
    expect(failures).toEqual(['bad', undefined, boom, undefined]);
    const { failures: same } = batchFailures(BatchResult.failing([1, 3], boom), 4);
    expect(same).toEqual([undefined, boom, undefined, boom]);
  });

  it('turns an index outside the batch into an error naming it', () => {
    const { failures, error } = batchFailures(new BatchResult().fail(5, new Error('x')), 3);
    expect(failures).toBeUndefined();
    expect(error?.message).toContain('BatchResult.fail(5)');
  });

  it('counts an item failed with undefined as failed', () => {
    const { failures } = batchFailures(new BatchResult().fail(0, undefined), 1);
    expect(failures?.[0]).toBeInstanceOf(Error);
  });
});
