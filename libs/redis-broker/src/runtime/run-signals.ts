/**
 * The abort signals of one consumer's handler runs (`ctx.signal`), and the
 * clock of a handler with `timeoutMs`.
 *
 * Without a timeout every run shares one signal, aborted when shutdown's
 * deadline passes: no controller, timer or listener per message. With one,
 * each run that returns a promise gets its own controller and timer; the
 * first of its result, its timeout or shutdown's deadline settles the run,
 * and whatever comes later is reported to `onLate` and otherwise ignored, so
 * a delivery is settled once and its slot freed at the timeout even when
 * the handler never ends (JavaScript cannot stop a promise).
 */
export class RunSignals {
  private readonly shutdown = new AbortController();
  /** Runs racing their clock now: shutdown's deadline ends them all. */
  private readonly timed = new Set<TimedRun>();

  /** `timeoutMs`: 0 for no limit. */
  constructor(readonly timeoutMs: number) {}

  /** Whether shutdown's deadline has passed: a run failing now was stopped by it, not by its own fault. */
  get deadlinePassed(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** The signal of every run when there is no timeout. */
  get shared(): AbortSignal {
    return this.shutdown.signal;
  }

  /** A run with its own signal, its clock not started yet; undefined when there is no timeout. */
  prepare(): TimedRun | undefined {
    return this.timeoutMs > 0 && !this.deadlinePassed ? new TimedRun(this.timeoutMs, this.timed) : undefined;
  }

  /** Shutdown's deadline: aborts the shared signal and ends every timed run with an `AbortError`. */
  abortAll(): void {
    if (this.deadlinePassed) return;
    const reason = new DOMException('the shutdown deadline (shutdownTimeoutMs) passed', 'AbortError');
    this.shutdown.abort(reason);
    for (const run of [...this.timed]) run.end(reason);
  }
}

/** One handler run with `timeoutMs`: its signal, and its result raced against the clock. */
export class TimedRun {
  private readonly controller = new AbortController();
  private finish: ((reason: DOMException) => void) | undefined;
  /** Set when the timeout, not the handler, ended the run. */
  timedOut = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly live: Set<TimedRun>,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * `result`, unless the timeout passes (or shutdown's deadline comes) first:
   * then the signal is aborted and the promise rejects with its reason. A
   * result or error that arrives after that goes to `onLate` (its error is
   * undefined for a late success), except the signal's own reason (the
   * handler honoured the signal).
   */
  race(result: PromiseLike<unknown>, onLate: (error: unknown) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let done = false;
      const settle = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        this.live.delete(this);
        return true;
      };
      this.finish = (reason) => {
        if (!settle()) return;
        this.controller.abort(reason);
        reject(reason);
      };
      const timer = setTimeout(() => {
        this.timedOut = true;
        this.finish?.(new DOMException(`the handler ran longer than timeoutMs (${this.timeoutMs} ms)`, 'TimeoutError'));
      }, this.timeoutMs);
      // The clock alone must not keep a process alive that has nothing else to do.
      timer.unref();
      this.live.add(this);
      result.then(
        (value) => (settle() ? resolve(value) : onLate(undefined)),
        (error: unknown) => {
          // The handler's own error, passed on as it is (the processor reads it as unknown).
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          if (settle()) reject(error);
          else if (error !== this.controller.signal.reason) onLate(error);
        },
      );
    });
  }

  /** Ends the run now with `reason` (shutdown's deadline); no-op once it has ended. */
  end(reason: DOMException): void {
    this.finish?.(reason);
  }
}
