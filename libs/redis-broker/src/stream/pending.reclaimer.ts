import { Logger } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { messages } from '../core/messages.js';
import type { BackoffOptions } from '../core/options/handler.options.js';
import { entryKey, type RawStreamEntry, type StreamEntry } from './stream-entry.js';

/** Timing of one reclaimer. */
export interface ReclaimerOptions {
  claimIdleMs: number;
  reclaimIntervalMs: number;
  backoff: Required<BackoffOptions>;
  /** Pending entries looked at per command. */
  batch: number;
}

/** A row of extended `XPENDING`: id, consumer, idle ms, deliveries. */
type PendingRow = [string, string, number, number];

const MAX_PAGES = 10;

/**
 * Finds pending entries that should run again, always reading their
 * delivery count from Redis: this consumer's failed entries once their
 * backoff has passed since the failure (`XPENDING ... IDLE` then `XCLAIM`
 * guarded by the same idle time), and entries of any consumer idle longer
 * than `claimIdleMs`, whose consumer is presumed dead (`XPENDING ... IDLE`
 * then `XCLAIM`, one at a time).
 */
export class PendingReclaimer {
  private readonly logger = new Logger(PendingReclaimer.name);
  /** Due at once: a consumer name used before may have left pending entries. */
  private nextCheckAt = 0;
  /**
   * entryKey → the delay chosen at its failure (with jitter) and when to
   * forget it; absent after a restart. Claiming the entry removes it; an
   * entry another consumer took over meanwhile never comes back to this
   * one, so each is forgotten `claimIdleMs` after it was due: by then this
   * consumer has claimed it or another one has.
   */
  private readonly retryDelays = new Map<string, { delayMs: number; forgetAt: number }>();

  constructor(
    private readonly keys: readonly string[],
    private readonly group: string,
    private readonly consumer: string,
    private readonly command: RedisClient,
    private readonly options: ReclaimerOptions,
    private readonly isHeld: (key: string, id: string) => boolean,
  ) {}

  /** Ms until the next check is due (0 when due now). */
  msUntilDue(): number {
    return Math.max(0, this.nextCheckAt - Date.now());
  }

  /** An entry of ours failed and waits `delayMs`: check again then. */
  scheduleRetry(entry: StreamEntry, delayMs: number): void {
    this.retryDelays.set(entryKey(entry.key, entry.id), { delayMs, forgetAt: Date.now() + delayMs + this.options.claimIdleMs });
    this.nextCheckAt = Math.min(this.nextCheckAt, Date.now() + delayMs);
  }

  /** Claims up to `max` entries that are due; `[]` when the check is not due yet. */
  async due(max: number): Promise<StreamEntry[]> {
    const now = Date.now();
    if (now < this.nextCheckAt) return [];
    this.nextCheckAt = now + this.options.reclaimIntervalMs;
    for (const [key, { forgetAt }] of this.retryDelays) if (forgetAt <= now) this.retryDelays.delete(key);
    const out: StreamEntry[] = [];
    for (const key of this.keys) if (out.length < max) out.push(...(await this.ownRetries(key, max - out.length)));
    let more = false;
    for (const key of this.keys) {
      if (out.length >= max || out.some((e) => e.takenOver)) break;
      const { taken, found } = await this.takeOver(key);
      out.push(...taken);
      more ||= found;
    }
    // A full batch, or an idle entry found (taken over one at a time), means
    // more may be due: look again on the next fetch.
    if (out.length >= max || more) this.nextCheckAt = 0;
    return out;
  }

  /** The delay a failed entry waits before its next delivery. */
  private retryDelay(key: string, id: string, deliveries: number): number {
    const chosen = this.retryDelays.get(entryKey(key, id));
    if (chosen !== undefined) return chosen.delayMs;
    const { type, delayMs, maxDelayMs } = this.options.backoff;
    return Math.min(type === 'fixed' ? delayMs : delayMs * 2 ** (deliveries - 1), maxDelayMs);
  }

  private async ownRetries(key: string, max: number): Promise<StreamEntry[]> {
    const { backoff, batch } = this.options;
    const minIdle = Math.floor(backoff.jitter ? backoff.delayMs / 2 : backoff.delayMs);
    const due: { id: string; delay: number; deliveries: number }[] = [];
    let start = '-';
    for (let page = 0; page < MAX_PAGES && due.length < max; page += 1) {
      const rows = (await this.command.xpending(key, this.group, 'IDLE', minIdle, start, '+', batch, this.consumer)) as PendingRow[];
      for (const [id, , idle, deliveries] of rows) {
        if (due.length >= max) break;
        if (this.isHeld(key, id)) continue;
        const delay = Math.round(this.retryDelay(key, id, deliveries));
        if (idle >= delay) due.push({ id, delay, deliveries });
      }
      if (rows.length < batch) break;
      start = `(${rows[rows.length - 1][0]}`;
    }
    const claimed = await Promise.all(
      due.map(async ({ id, delay, deliveries }) => {
        // The idle guard makes this a no-op if another consumer took the entry meanwhile.
        const reply = (await this.command.call('XCLAIM', key, this.group, this.consumer, delay, id)) as RawStreamEntry[];
        this.retryDelays.delete(entryKey(key, id));
        return reply.map(([claimedId, fields]) => this.entry(key, claimedId, fields, deliveries + 1));
      }),
    );
    return claimed.flat();
  }

  /**
   * Takes over one entry of a consumer presumed dead: the first pending entry
   * idle for `claimIdleMs` that this process does not hold (`XPENDING ...
   * IDLE`, then `XCLAIM` with the same idle guard, so an entry another
   * consumer took meanwhile is left alone). One at a time: a taken-over entry
   * runs alone (it may be what killed that consumer), and a claim charges a
   * delivery to every entry it takes, so entries claimed together would be
   * charged again each time a poison among them crashes this process too,
   * and dead-lettered without ever running. `found`: an idle entry was there
   * (claimed, or gone meanwhile), so another may be.
   */
  private async takeOver(key: string): Promise<{ taken: StreamEntry[]; found: boolean }> {
    const { claimIdleMs, batch } = this.options;
    const rows = (await this.command.xpending(key, this.group, 'IDLE', claimIdleMs, '-', '+', batch)) as PendingRow[];
    // Our own entry still running past claimIdleMs shows up too: it is not run twice here.
    const row = rows.find(([id]) => !this.isHeld(key, id));
    if (!row) return { taken: [], found: false };
    const [id, , , deliveries] = row;
    // An entry deleted from the stream meanwhile comes back empty (Redis drops it from the pending list).
    const raw = ((await this.command.call('XCLAIM', key, this.group, this.consumer, claimIdleMs, id)) as (RawStreamEntry | null)[])
      .filter((e): e is RawStreamEntry => e !== null);
    if (raw.length === 0) return { taken: [], found: true };
    this.logger.warn(messages.streamTakenOver(key, this.group, this.consumer, raw.length, claimIdleMs));
    return { taken: raw.map(([claimedId, fields]) => ({ ...this.entry(key, claimedId, fields, deliveries + 1), takenOver: true })), found: true };
  }

  private entry(key: string, id: string, fields: string[], deliveries: number): StreamEntry {
    return { key, id, fields, deliveries, requeued: key !== this.keys[0], heldIn: undefined };
  }
}
