import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../../core/error-text.js';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';
import { LogThrottle } from '../log-throttle.js';
import type { MessageSource } from '../message-source.js';
import { planAhead } from './ahead-plan.js';
import type { LeaseSemaphore } from './lease-semaphore.js';
import type { RateGrant, RateWindow } from './rate-window.js';

/** Which limit made a consumer wait. */
export type LimitWait = 'rate' | 'globalConcurrency';

/** The cross-process limits of one consumer, as `LimitedSource` applies them. */
export interface SourceLimits {
  /**
   * The queue-wide (or group-wide) rate limit and its window key; `leadMs`: how far ahead of its
   * slot a message may be fetched (0: none); `lateMs`: how far behind its slot it may still start;
   * `catchUpMs`: how far back a slot that freed while every consumer was late may be dated.
   */
  rate?: { window: RateWindow; key: string; leadMs: number; lateMs: number; catchUpMs: number };
  /** `globalConcurrency`, with a connection of the source's own for blocking on lease releases. */
  leases?: { semaphore: LeaseSemaphore; blocking: RedisClient; closeBlocking: () => Promise<void> };
  /** The consumer's blockTimeoutMs: the longest one wait lasts, so stopping stays prompt. */
  blockTimeoutMs: number;
  /** Rate reservations are dated this far ahead until the fetch returns: longer than any fetch. */
  reservationHoldMs: number;
  /** Called for each wait on a limit. */
  limited: (limit: LimitWait, waitMs: number) => void;
  /** Where the configured limits are written at start, for the status tools (a HASH, overwritten by every consumer). */
  record: { command: RedisClient; key: string; fields: Record<string, string> };
}

/**
 * A message source that takes its slots before it fetches: first leases
 * (`globalConcurrency`), then a reservation in the rate window, then at most
 * that many messages, so it never takes messages it may not start (they stay
 * in Redis for other processes). When a limit is full it waits: until the
 * rate window has room (a timer, from the time Redis computed), or until a
 * lease is released (blocking on the release list) or expires; each wait is
 * bounded by blockTimeoutMs, and the loop fetches again after it.
 *
 * Order and crashes: a crash after the leases or the reservation but before
 * the fetch loses nothing (the messages are still in Redis) and holds the
 * slots until they expire; the messages a fetch brings are reliable-list or
 * pending stream entries, recovered as usual. A lease is released when its
 * message's run ends (`run`).
 */
export class LimitedSource<M extends object> implements MessageSource<M> {
  readonly description: string;
  private readonly logger = new Logger(LimitedSource.name);
  private readonly renewFailures = new LogThrottle();
  /** Lease of each message fetched and not finished. */
  private readonly held = new Map<M, string>();
  /** Leases taken and not given to a message yet. */
  private spare: string[] = [];
  /** Messages a fetch brought beyond the slots taken (a recovery returns all it finds): served first, as slots come. */
  private backlog: M[] = [];
  /** Messages fetched for rate slots dated ahead, in slot order: each is handed out at its slot's time. */
  private ahead: { message: M; dueAt: number }[] = [];
  private drained = false;
  private readonly waits = new AbortController();
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: MessageSource<M>,
    private readonly limits: SourceLimits,
  ) {
    this.description = inner.description;
  }

  async start(): Promise<void> {
    await this.inner.start();
    const { record } = this.limits;
    // Only shown by status tools: a Redis down at boot must not fail the boot.
    record.command.hset(record.key, record.fields).catch((error: unknown) => {
      this.logger.warn(`${this.description}: limits not recorded for status tools: ${errorText(error)}`);
    });
    const semaphore = this.limits.leases?.semaphore;
    if (semaphore) {
      this.renewTimer = setInterval(() => void this.renew(semaphore), Math.max(1, Math.floor(semaphore.leaseMs / 3)));
      this.renewTimer.unref();
    }
  }

  async fetch(max: number, startable: number): Promise<M[]> {
    if (this.ahead.length > 0) return this.handOutDue(max);
    const { rate, leases } = this.limits;
    // After an empty fetch the next one blocks for a single message: hold one slot for it, not a window's worth.
    const holdsSlots = leases !== undefined || rate !== undefined;
    let want = this.backlog.length > 0 ? Math.min(max, this.backlog.length) : this.drained && holdsSlots ? 1 : max;
    if (leases) {
      if (this.spare.length < want) {
        const grant = await leases.semaphore.acquire(want - this.spare.length);
        this.spare.push(...grant.leases);
        if (this.spare.length === 0) {
          this.limits.limited('globalConcurrency', grant.waitMs);
          await leases.semaphore.waitForRelease(leases.blocking, Math.min(grant.waitMs, this.limits.blockTimeoutMs));
          return [];
        }
      }
      want = Math.min(want, this.spare.length);
    }
    let grant: RateGrant | undefined;
    // A backlog (here or in Redis): take the next slots as they free, so a late wake-up does not push them later.
    if (rate && rate.leadMs > 0 && (this.backlog.length > 0 || !this.drained)) return this.fetchAhead(rate, want, startable);
    if (rate) {
      const holdMs = this.backlog.length > 0 ? 0 : this.limits.reservationHoldMs;
      grant = await rate.window.reserve(rate.key, want, holdMs);
      if (grant.granted === 0) {
        await this.waitForRate(rate, grant.waitMs);
        return [];
      }
      want = grant.granted;
    }
    const batch = await this.take(want, startable, grant);
    for (const message of batch) {
      const lease = this.spare.pop();
      if (lease !== undefined) this.held.set(message, lease);
    }
    // Nothing more to run for now: leases not needed go back to the processes that wait.
    if (this.drained && this.spare.length > 0) this.releaseLeases(this.spare.splice(0));
    return batch;
  }

  /**
   * Runs `pending` (a message's run, undefined when it finished at once) and
   * releases the message's lease when it ends. Never rejects when `pending` does not.
   */
  run(message: M, pending: Promise<void> | undefined): Promise<void> | undefined {
    if (!this.limits.leases) return pending;
    if (pending === undefined) {
      this.finished(message);
      return undefined;
    }
    return pending.finally(() => this.finished(message));
  }

  interrupt(): void {
    this.waits.abort();
    // Only a BLPOP on the release list runs there; nothing is lost with it.
    this.limits.leases?.blocking.disconnect();
    this.inner.interrupt();
  }

  async handBack(messages: M[]): Promise<void> {
    this.releaseLeases(messages.flatMap((m) => this.forgetLease(m)));
    await this.inner.handBack(messages);
  }

  async stop(): Promise<void> {
    clearInterval(this.renewTimer);
    // Slots dated ahead and not started count as starts (they leave the window with it): never reused.
    this.backlog.push(...this.ahead.splice(0).map((a) => a.message));
    if (this.backlog.length > 0) await this.inner.handBack(this.backlog.splice(0));
    await this.inner.stop();
    // Runs abandoned at the deadline are handed back with the rest: their slots go too.
    const left = [...this.spare.splice(0), ...this.held.values()];
    this.held.clear();
    const semaphore = this.limits.leases?.semaphore;
    if (left.length > 0 && semaphore) {
      await semaphore.release(left).catch((error: unknown) => {
        this.logger.warn(`${this.description}: ${left.length} lease(s) not released (they expire): ${errorText(error)}`);
      });
    }
    await this.limits.leases?.closeBlocking();
  }

  /**
   * Reserves up to `want` slots that free within `leadMs` (each dated at the moment it frees, on the
   * Redis clock), fetches that many messages, and keeps them until their slots' times: the counted
   * start is the slot's time, so how late this consumer woke or how long the fetch took does not
   * push the next slots later. Unused slots go back; a message that came too late for its slot
   * (the fetch blocked on an empty queue) gives it back and waits in the backlog for a new one.
   */
  private async fetchAhead(rate: NonNullable<SourceLimits['rate']>, want: number, startable: number): Promise<M[]> {
    const grant = await rate.window.reserveAhead(rate.key, want, rate.leadMs, rate.catchUpMs);
    const reservedAt = Date.now();
    if (grant.granted === 0) {
      await this.waitForRate(rate, grant.waitMs);
      return [];
    }
    let batch: M[];
    if (this.backlog.length > 0) {
      batch = this.backlog.splice(0, grant.granted);
    } else {
      try {
        batch = await this.inner.fetch(grant.granted, Math.min(startable, grant.granted));
      } catch (error) {
        this.dropSlots(rate, grant, Array.from({ length: grant.granted }, (_, i) => i + 1));
        throw error;
      }
      this.drained = batch.length < grant.granted;
      if (batch.length > grant.granted) this.backlog.push(...batch.splice(grant.granted));
    }
    const plan = planAhead(grant.offsets, batch.length, reservedAt, Date.now(), rate.lateMs);
    this.dropSlots(rate, grant, plan.drop);
    for (const index of plan.late) this.backlog.push(batch[index]);
    for (const { index, dueAt } of plan.onTime) {
      const message = batch[index];
      const lease = this.spare.pop();
      if (lease !== undefined) this.held.set(message, lease);
      this.ahead.push({ message, dueAt });
    }
    if (this.drained && this.backlog.length === 0 && this.spare.length > 0) this.releaseLeases(this.spare.splice(0));
    return this.ahead.length > 0 ? this.handOutDue(Number.POSITIVE_INFINITY) : [];
  }

  /** Waits until the first message dated ahead is due, then hands out every one due (at most `max`). */
  private async handOutDue(max: number): Promise<M[]> {
    const wait = this.ahead[0].dueAt - Date.now();
    if (wait > 0) await this.pause(wait);
    if (this.waits.signal.aborted) return [];
    const now = Date.now();
    let due = 0;
    while (due < this.ahead.length && due < max && this.ahead[due].dueAt <= now) due += 1;
    return this.ahead.splice(0, due).map((a) => a.message);
  }

  private async waitForRate(rate: NonNullable<SourceLimits['rate']>, waitMs: number): Promise<void> {
    // A slot frees within perMs unless the window holds reservations of blocked fetches: try again then.
    const ms = Math.min(waitMs, rate.window.perMs, this.limits.blockTimeoutMs);
    this.limits.limited('rate', ms);
    await this.pause(ms);
  }

  /** Sent without waiting: a slot not dropped only counts (it leaves the window with time), never less. */
  private dropSlots(rate: NonNullable<SourceLimits['rate']>, grant: RateGrant, slots: number[]): void {
    rate.window.drop(rate.key, grant, slots).catch((error: unknown) => {
      this.logger.warn(`${this.description}: ${slots.length} unused rate slot(s) not given back (they count until they leave the window): ${errorText(error)}`);
    });
  }

  /** `want` messages from the backlog or the source; the rate reservation dated by what came. */
  private async take(want: number, startable: number, grant: RateGrant | undefined): Promise<M[]> {
    const { rate } = this.limits;
    let batch: M[];
    if (this.backlog.length > 0) {
      batch = this.backlog.splice(0, want);
    } else {
      try {
        batch = await this.inner.fetch(want, Math.min(startable, want));
      } catch (error) {
        if (grant && rate) this.commit(rate, grant, 0);
        throw error;
      }
      this.drained = batch.length < want;
      if (batch.length > want) this.backlog.push(...batch.splice(want));
    }
    if (grant && rate) this.commit(rate, grant, batch.length);
    return batch;
  }

  /** Sent without waiting: a reservation not committed only counts longer (it expires), never less. */
  private commit(rate: NonNullable<SourceLimits['rate']>, grant: RateGrant, used: number): void {
    rate.window.commit(rate.key, grant, used).catch((error: unknown) => {
      this.logger.warn(`${this.description}: rate reservation not committed (it counts until it expires): ${errorText(error)}`);
    });
  }

  private finished(message: M): void {
    this.releaseLeases(this.forgetLease(message));
  }

  private forgetLease(message: M): string[] {
    const lease = this.held.get(message);
    if (lease === undefined) return [];
    this.held.delete(message);
    return [lease];
  }

  private releaseLeases(leases: string[]): void {
    if (leases.length === 0 || !this.limits.leases) return;
    this.limits.leases.semaphore.release(leases).catch((error: unknown) => {
      this.logger.warn(`${this.description}: ${leases.length} lease(s) not released (they expire): ${errorText(error)}`);
    });
  }

  private async renew(leases: LeaseSemaphore): Promise<void> {
    const mine = [...this.held.values(), ...this.spare];
    try {
      const expired = await leases.renew(mine);
      if (expired > 0) {
        this.logger.warn(`${this.description}: ${expired} lease(s) expired before renewal (process stalled longer than the lease); their slots may be in use elsewhere`);
      }
    } catch (error) {
      const count = this.renewFailures.note();
      if (count !== undefined) this.logger.warn(`${this.description}: lease renewal failed (${count}x): ${errorText(error)}`);
    }
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.waits.signal }).catch(() => undefined);
  }
}
