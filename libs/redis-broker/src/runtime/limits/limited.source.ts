import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../../core/error-text.js';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';
import { LogThrottle } from '../log-throttle.js';
import type { MessageSource } from '../message-source.js';
import type { LeaseSemaphore } from './lease-semaphore.js';
import type { RateGrant, RateWindow } from './rate-window.js';

/** Which limit made a consumer wait. */
export type LimitWait = 'rate' | 'globalConcurrency';

/** The cross-process limits of one consumer, as `LimitedSource` applies them. */
export interface SourceLimits {
  /** The queue-wide (or group-wide) rate limit and its window key. */
  rate?: { window: RateWindow; key: string };
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
    if (rate) {
      const holdMs = this.backlog.length > 0 ? 0 : this.limits.reservationHoldMs;
      grant = await rate.window.reserve(rate.key, want, holdMs);
      if (grant.granted === 0) {
        const waitMs = grant.waitMs < 0 ? rate.window.perMs : grant.waitMs;
        this.limits.limited('rate', waitMs);
        await this.pause(Math.min(waitMs, this.limits.blockTimeoutMs));
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
