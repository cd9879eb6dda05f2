import { describe, expect, it } from 'vitest';
import { RunSignals } from '../../libs/redis-broker/src/runtime/run-signals.js';

const never = new Promise<never>(() => undefined);

/** The rejection of `promise`; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('RunSignals', () => {
  it('gives every run the one shared signal when there is no timeout, and aborts it at the shutdown deadline', () => {
    const signals = new RunSignals(0);
    expect(signals.prepare()).toBeUndefined();
    expect(signals.shared.aborted).toBe(false);
    signals.abortAll();
    expect(signals.deadlinePassed).toBe(true);
    expect(signals.shared.aborted).toBe(true);
    expect((signals.shared.reason as DOMException).name).toBe('AbortError');
  });

  it('settles a run that finishes before its timeout with its result, leaving its signal alone', async () => {
    const signals = new RunSignals(60_000);
    const succeeding = signals.prepare()!;
    const failing = signals.prepare()!;
    await expect(succeeding.race(Promise.resolve('done'), () => undefined)).resolves.toBe('done');
    await expect(failing.race(Promise.reject(new Error('boom')), () => undefined)).rejects.toThrow('boom');
    for (const run of [succeeding, failing]) {
      expect(run.signal.aborted).toBe(false);
      expect(run.timedOut).toBe(false);
    }
  });

  it('rejects a run that outlives its timeout with a TimeoutError, aborting its signal with the same reason', async () => {
    const run = new RunSignals(5).prepare()!;
    const error = await rejectionOf(run.race(never, () => undefined));
    expect(run.timedOut).toBe(true);
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toBe(error);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect((error as DOMException).message).toContain('timeoutMs (5 ms)');
  });

  it('reports what a timed-out handler does later to onLate, once, and nothing when it honours the signal', async () => {
    const late: unknown[] = [];
    let finish!: (value: string) => void;
    const ignoring = new RunSignals(5).prepare()!;
    await rejectionOf(ignoring.race(new Promise<string>((resolve) => (finish = resolve)), (error) => late.push(error ?? 'success')));
    finish('late');
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toEqual(['success']);

    const honouring = new RunSignals(5).prepare()!;
    const aborted = new Promise((_resolve, reject) => honouring.signal.addEventListener('abort', () => reject(honouring.signal.reason as Error)));
    await rejectionOf(honouring.race(aborted, (error) => late.push(error)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toEqual(['success']);
  });

  it('ends every timed run still going at the shutdown deadline with an AbortError, not a timeout', async () => {
    const signals = new RunSignals(60_000);
    const run = signals.prepare()!;
    const racing = rejectionOf(run.race(never, () => undefined));
    signals.abortAll();
    const error = (await racing) as DOMException;
    expect(error.name).toBe('AbortError');
    expect(run.signal.aborted).toBe(true);
    expect(run.timedOut).toBe(false);
    // A run prepared after the deadline has no clock: it shares the aborted signal.
    expect(signals.prepare()).toBeUndefined();
  });
});
