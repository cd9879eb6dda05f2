import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { ConcurrencyLimiter } from './concurrency.limiter.js';
import type { ConsumerHealth, MessageSource } from './message-source.js';

const ABANDONED = Symbol('abandoned');

/** How one loop runs its messages. */
export interface ConsumerLoopOptions<M> {
  /** Most messages held at once (running + waiting). */
  window: number;
  /**
   * Most messages one fetch takes; default the window. Below it, the next
   * fetch is sent while the last batch is dispatched (see `fetchAhead`).
   */
  fetchMax?: number;
  /**
   * How many fetched messages beyond the free slots count as starting at
   * once (read ahead): a source records the rest as waiting.
   */
  readAhead: number;
  concurrency: number;
  blockTimeoutMs: number;
  /** Runs one message to its settlement; must not reject. Returns undefined when it finished synchronously. */
  process: (message: M) => Promise<void> | undefined;
  /** Resolves once settlements still in flight after `process` returned have landed. */
  drain?: () => Promise<void>;
  /** Whether a message must run alone. */
  isSolo?: (message: M) => boolean;
  /** Called when shutdown's deadline passes with handlers still running (their signals are aborted). */
  deadlinePassed?: () => void;
}

/**
 * fetch (blocking, bounded) → dispatch → settle, until stopped. Fetch errors
 * back off exponentially up to a cap while ioredis reconnects; the loop never
 * exits on an error, only on `stop`.
 */
export class ConsumerLoop<M> {
  private readonly logger = new Logger(ConsumerLoop.name);
  private readonly limiter: ConcurrencyLimiter<M>;
  private readonly abort = new AbortController();
  private stopping = false;
  private running: Promise<void> | undefined;
  private state: ConsumerHealth['state'] = 'starting';
  private lastFetchAt = Date.now();
  private failing = false;
  private waitingForCapacity = false;
  /** Ends the loop's current wait with ABANDONED (set while it waits). */
  private abandonWait: ((value: typeof ABANDONED) => void) | undefined;

  constructor(
    private readonly source: MessageSource<M>,
    private readonly options: ConsumerLoopOptions<M>,
  ) {
    this.limiter = new ConcurrencyLimiter(options.concurrency, options.process);
    this.abort.signal.addEventListener('abort', () => this.abandonWait?.(ABANDONED), { once: true });
  }

  async start(): Promise<void> {
    await this.source.start();
    this.state = 'running';
    this.lastFetchAt = Date.now();
    this.running = this.run();
  }

  async stop(deadline: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.stopping = true;
    this.abort.abort();
    this.source.interrupt();
    await this.running;
    // Messages fetched but not started go back now rather than run during shutdown.
    const unstarted = this.limiter.takeWaiting();
    if (unstarted.length > 0) await this.source.handBack(unstarted);
    const idle = await this.limiter.whenIdle(deadline);
    if (!idle) {
      this.logger.warn(messages.shutdownTimeout(this.source.description, this.limiter.active));
      this.options.deadlinePassed?.();
    }
    // Handing back needs Redis; when it is down, the reaper of another process
    // returns the messages later, so shutdown does not wait past a short grace.
    const grace = Math.max(0, deadline - Date.now()) + BROKER_DEFAULTS.stopGraceMs;
    const timer = new AbortController();
    const drained = this.options.drain?.() ?? Promise.resolve();
    const handedBack = await Promise.race([
      drained.then(() => this.source.stop()).then(() => true),
      sleep(grace, false, { signal: timer.signal }).catch(() => false),
    ]).finally(() => timer.abort());
    if (!handedBack) this.logger.warn(messages.handBackTimeout(this.source.description, grace));
    this.state = 'stopped';
  }

  health(): ConsumerHealth {
    return {
      description: this.source.description,
      state: this.state,
      lastFetchAt: this.lastFetchAt,
      blockTimeoutMs: this.options.blockTimeoutMs,
      failing: this.failing,
      inFlight: this.limiter.size,
      waitingForCapacity: this.waitingForCapacity,
    };
  }

  private async run(): Promise<void> {
    const { window, isSolo } = this.options;
    const backoff = BROKER_DEFAULTS.fetchErrorBackoffMs;
    let failures = 0;
    /** The next fetch, sent before the last batch was dispatched (see `fetchAhead`). */
    let ahead: Promise<M[]> | undefined;
    while (!this.stopping) {
      // Nothing is fetched to wait behind a message running alone: if it
      // crashes the process, what waited would be blamed with it (a stream
      // entry is charged a delivery by the takeover).
      if (ahead === undefined && (this.limiter.size >= window || this.limiter.holdsSolo)) {
        this.waitingForCapacity = true;
        await this.untilAborted(this.limiter.nextChange());
        this.waitingForCapacity = false;
        // Waiting for capacity is not being stuck.
        this.lastFetchAt = Date.now();
        continue;
      }
      let batch: M[];
      const fetching = ahead ?? this.fetch([]);
      ahead = undefined;
      try {
        // A fetch queued on a connection that is down may never settle, even
        // after interrupt(): stopping must not wait for it. What it takes late
        // is handed back (reliable lists and streams keep it in Redis anyway).
        const result = await this.untilAborted(fetching);
        if (result === ABANDONED) {
          this.handBackLate(fetching);
          break;
        }
        batch = result;
        failures = 0;
        this.failing = false;
      } catch (error) {
        if (this.stopping) break;
        failures += 1;
        this.failing = true;
        const delay = Math.min(backoff.initial * 2 ** (failures - 1), backoff.max);
        if (failures === 1 || failures % 10 === 0) {
          this.logger.error(messages.loopError(this.source.description, errorText(error), delay));
        }
        await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
        continue;
      }
      this.lastFetchAt = Date.now();
      ahead = this.fetchAhead(batch);
      // Messages that arrive while stopping are still run: in fast mode they
      // exist nowhere else.
      for (const message of batch) this.limiter.submit(message, isSolo?.(message) ?? false);
    }
    if (ahead !== undefined) this.handBackLate(ahead);
  }

  /** A fetch for what the window has room for once `pending` (fetched, not yet submitted) is held, at most `fetchMax`. */
  private fetch(pending: readonly M[]): Promise<M[]> {
    const { window, readAhead, fetchMax = window } = this.options;
    const room = window - this.limiter.size - pending.length;
    return this.source.fetch(Math.min(room, fetchMax), this.limiter.startableWithin(readAhead, pending.length));
  }

  /**
   * The next fetch, sent before `batch` is dispatched when the window has
   * room beside it (with `fetchMax` at half the window, a full fetch leaves
   * room for the next): Redis prepares the next batch while this process
   * runs the last one, instead of each waiting for the other. None after an
   * empty fetch (the source is idle), or around a message that must run
   * alone (nothing may be fetched to wait behind it).
   */
  private fetchAhead(batch: readonly M[]): Promise<M[]> | undefined {
    const { window, isSolo } = this.options;
    if (this.stopping || batch.length === 0 || this.limiter.holdsSolo) return undefined;
    if (this.limiter.size + batch.length >= window) return undefined;
    if (isSolo !== undefined && batch.some(isSolo)) return undefined;
    const fetching = this.fetch(batch);
    // Its failure is handled where it is awaited (or dropped at stop).
    fetching.catch(() => undefined);
    return fetching;
  }

  /** What a fetch the loop no longer waits for takes goes back (the loop has stopped). */
  private handBackLate(fetching: Promise<M[]>): void {
    fetching.then((late) => (late.length > 0 ? this.source.handBack(late) : undefined)).catch(() => undefined);
  }

  /**
   * `promise`'s outcome, or ABANDONED once the loop is stopped. The loop
   * waits for one thing at a time, so one abort listener, registered once,
   * ends whichever wait is current: no listener is added and removed per
   * fetch (that churn was garbage a long drain promoted), and no long-lived
   * promise collects a reaction per wait (a `Promise.race` with one
   * "aborted" promise would keep every batch ever fetched alive).
   */
  private untilAborted<T>(promise: Promise<T>): Promise<T | typeof ABANDONED> {
    if (this.abort.signal.aborted) return Promise.resolve(ABANDONED);
    return new Promise((resolve, reject) => {
      this.abandonWait = resolve;
      promise.then(
        (value) => {
          this.abandonWait = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.abandonWait = undefined;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
