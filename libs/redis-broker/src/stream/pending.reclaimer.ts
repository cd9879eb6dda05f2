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
 * than `claimIdleMs`, whose consumer is presumed dead (`XAUTOCLAIM`).
 */
export class PendingReclaimer {
  private readonly logger = new Logger(PendingReclaimer.name);
  /** Due at once: a consumer name used before may have left pending entries. */
  private nextCheckAt = 0;
  private readonly cursors = new Map<string, string>();
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
      const { taken, scanning } = await this.takeOver(key);
      out.push(...taken);
      more ||= scanning || taken.length > 0;
    }
    // A full batch, a takeover (one entry at a time) or a scan of the
    // pending list not finished means more may be due: look again on the next fetch.
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
   * Takes over one entry of a consumer presumed dead. One at a time: a taken
   * over entry runs alone (it may be what killed that consumer), and
   * `XAUTOCLAIM` charges a delivery to every entry it claims, so entries
   * claimed together would be charged again each time a poison among them
   * crashes this process too, and dead-lettered without ever running.
   */
  private async takeOver(key: string): Promise<{ taken: StreamEntry[]; scanning: boolean }> {
    const cursor = this.cursors.get(key) ?? '0-0';
    const [next, raw] = (await this.command.xautoclaim(
      key, this.group, this.consumer, this.options.claimIdleMs, cursor, 'COUNT', 1,
    )) as [string, (RawStreamEntry | null)[], string[]?];
    this.cursors.set(key, next);
    const scanning = next !== '0-0';
    // Our own entry still running past claimIdleMs comes back too: it is not run twice here.
    const taken = raw.filter((e): e is RawStreamEntry => e !== null && !this.isHeld(key, e[0]));
    if (taken.length === 0) return { taken: [], scanning };
    const counts = await Promise.all(
      taken.map(async ([id]) => {
        const rows = (await this.command.xpending(key, this.group, id, id, 1)) as PendingRow[];
        return rows[0]?.[3] ?? 1;
      }),
    );
    this.logger.warn(messages.streamTakenOver(key, this.group, this.consumer, taken.length, this.options.claimIdleMs));
    return { taken: taken.map(([id, fields], i) => ({ ...this.entry(key, id, fields, counts[i]), takenOver: true })), scanning };
  }

  private entry(key: string, id: string, fields: string[], deliveries: number): StreamEntry {
    return { key, id, fields, deliveries, requeued: key !== this.keys[0] };
  }
}
