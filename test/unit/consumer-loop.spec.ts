import { afterEach, describe, expect, it } from 'vitest';
import { ConsumerLoop } from '../../libs/redis-broker/src/runtime/consumer.loop.js';
import type { MessageSource } from '../../libs/redis-broker/src/runtime/message-source.js';

/**
 * The loop's scheduling against a scripted source: what it asks for and
 * when. (What a fetch does in Redis is tested end to end in test/queue and
 * test/stream.)
 */
class ScriptedSource implements MessageSource<string> {
  readonly description = 'scripted';
  /** Every call, and the events around it, in order. */
  readonly log: string[] = [];
  readonly handedBack: string[] = [];
  /** Each fetch's `max`, with how many messages were taken and finished before it. */
  readonly fetches: Array<{ max: number; takenBefore: number; finishedBefore: number }> = [];
  /** How many messages the test has seen finish (for `fetches`). */
  finishedSoFar: () => number = () => 0;
  private next = 0;
  private waiters: Array<{ max: number; resolve: (batch: string[]) => void }> = [];

  constructor(
    private readonly total: number,
    /** Fetches answer at once while true and messages are left; else they wait for `release`. */
    private readonly immediate = true,
  ) {}

  async start(): Promise<void> {}

  fetch(max: number, startable: number): Promise<string[]> {
    this.log.push(`fetch ${max} ${startable}`);
    this.fetches.push({ max, takenBefore: this.next, finishedBefore: this.finishedSoFar() });
    // Empty, it blocks as a Redis source does (until `release` or `interrupt`).
    if (this.immediate && this.next < this.total) return Promise.resolve(this.take(max));
    return new Promise((resolve) => this.waiters.push({ max, resolve }));
  }

  /** Messages run by `runNow`, in order. */
  readonly handled: string[] = [];

  /** A synchronous handler that notes its run in `log` and `handled`. */
  readonly runNow = (m: string): undefined => {
    this.log.push(`run ${m}`);
    this.handled.push(m);
    return undefined;
  };

  /** Answers the oldest waiting fetch. */
  release(): void {
    const waiter = this.waiters.shift();
    waiter?.resolve(this.take(waiter.max));
  }

  get waiting(): number {
    return this.waiters.length;
  }

  interrupt(): void {
    for (const waiter of this.waiters.splice(0)) waiter.resolve(this.take(waiter.max));
  }

  async handBack(messages: string[]): Promise<void> {
    this.handedBack.push(...messages);
  }

  async stop(): Promise<void> {}

  private take(max: number): string[] {
    const batch: string[] = [];
    while (batch.length < max && this.next < this.total) batch.push(`m${this.next++}`);
    return batch;
  }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 1_000 && !check(); i += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
};

describe('the consumer loop fetches the next batch while it dispatches one', () => {
  const loops: ConsumerLoop<string>[] = [];
  afterEach(async () => {
    for (const loop of loops.splice(0)) await loop.stop(Date.now() + 1_000);
  });

  function loop(source: ScriptedSource, options: { window: number; fetchMax?: number; readAhead: number; concurrency: number; isSolo?: (m: string) => boolean }, run: (m: string) => Promise<void> | undefined) {
    const l = new ConsumerLoop(source, { ...options, blockTimeoutMs: 1_000, process: run });
    loops.push(l);
    return l;
  }

  it('sends the next fetch before the handlers of the batch it got run, when a fetch takes half the window', async () => {
    const source = new ScriptedSource(8);
    const { handled } = source;
    await loop(source, { window: 4, fetchMax: 2, readAhead: 2, concurrency: 2 }, source.runNow).start();
    await until(() => handled.length === 8);
    // The second fetch is sent before m0 runs: Redis prepares it meanwhile.
    expect(source.log.slice(0, 4)).toEqual(['fetch 2 4', 'fetch 2 2', 'run m0', 'run m1']);
    expect(handled).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('never holds more than the window: a fetch asks only for the room left beside what is held', async () => {
    const window = 6;
    let finished = 0;
    const source = new ScriptedSource(40);
    source.finishedSoFar = () => finished;
    const running: Array<() => void> = [];
    const l = loop(source, { window, fetchMax: 3, readAhead: 3, concurrency: 3 }, () => new Promise<void>((resolve) => running.push(resolve)));
    await l.start();
    while (finished < 40) {
      await until(() => running.length > 0);
      running.shift()!();
      finished += 1;
    }
    // At each fetch: what was taken and not finished, plus what the fetch may bring.
    const fetches = source.fetches;
    expect(fetches.length).toBeGreaterThan(10);
    for (const { max, takenBefore, finishedBefore } of fetches) expect(takenBefore - finishedBefore + max).toBeLessThanOrEqual(window);
    // Both fetches of a window were out at once at some point (the second sent before the first's batch ran).
    expect(fetches.some(({ max, takenBefore, finishedBefore }) => takenBefore - finishedBefore + max === window && max === window / 2)).toBe(true);
  });

  it('takes the whole window in one fetch without fetchMax (batch handlers), sending nothing ahead of a full batch', async () => {
    const source = new ScriptedSource(8);
    await loop(source, { window: 4, readAhead: 2, concurrency: 2 }, source.runNow).start();
    await until(() => source.handled.length === 8);
    expect(source.log.slice(0, 6)).toEqual(['fetch 4 4', 'run m0', 'run m1', 'run m2', 'run m3', 'fetch 4 4']);
  });

  it('sends nothing ahead of a batch holding a message that must run alone', async () => {
    const source = new ScriptedSource(6);
    await loop(source, { window: 4, fetchMax: 2, readAhead: 2, concurrency: 2, isSolo: (m) => m === 'm1' }, source.runNow).start();
    await until(() => source.handled.length === 6);
    // m1 arrives in the first batch: the next fetch waits until it ran.
    expect(source.log.slice(0, 4)).toEqual(['fetch 2 4', 'run m0', 'run m1', 'fetch 2 4']);
  });

  it('sends nothing ahead of an empty fetch (an idle source)', async () => {
    const source = new ScriptedSource(0, false);
    await loop(source, { window: 4, fetchMax: 2, readAhead: 2, concurrency: 2 }, () => undefined).start();
    await until(() => source.waiting === 1);
    source.release();
    await until(() => source.waiting === 1);
    expect(source.log).toEqual(['fetch 2 4', 'fetch 2 4']);
  });

  it('hands back what the fetch sent ahead brings after the loop stopped', async () => {
    const source = new ScriptedSource(10, false);
    const l = loop(source, { window: 4, fetchMax: 2, readAhead: 2, concurrency: 2 }, () => new Promise<void>(() => undefined));
    await l.start();
    await until(() => source.waiting === 1);
    source.release();
    // m0 and m1 run (and never end); the fetch sent ahead is in flight.
    await until(() => source.waiting === 1 && l.health().inFlight === 2);
    loops.splice(0);
    await l.stop(Date.now() + 50);
    await until(() => source.handedBack.length === 2);
    expect(source.handedBack).toEqual(['m2', 'm3']);
  });
});
