import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';

/** Starts counted into the window by one `reserve`; `waitMs` when none were. */
export interface RateGrant {
  id: string;
  granted: number;
  /** Ms until the window has room (within the lead asked for); 0 when some were granted. */
  waitMs: number;
  /** Per granted slot, ascending: ms from the Redis clock's "now" of the reserve to the slot's time (0 with a hold). */
  offsets: number[];
}

/**
 * One sliding-window rate limit in Redis (`rate-acquire.lua`): at most
 * `max` starts in any `perMs` window of the Redis clock, shared by every
 * process that uses the same key.
 */
export class RateWindow {
  constructor(
    private readonly command: RedisClient,
    readonly max: number,
    readonly perMs: number,
  ) {}

  /**
   * Reserves up to `wanted` starts dated `holdMs` ahead (counted at once, in
   * every window until committed), for messages not fetched yet.
   */
  async reserve(key: string, wanted: number, holdMs: number): Promise<RateGrant> {
    return this.acquire(key, wanted, holdMs, 0);
  }

  /**
   * Reserves up to `wanted` starts, each dated at the moment its slot frees
   * (the window's own arithmetic, on the Redis clock), none more than
   * `leadMs` ahead. A slot that freed up to `catchUpMs` ago while nobody
   * claimed it (every consumer late) is dated when it freed, with offset 0,
   * provided it is then the newest start. Nothing to commit: a slot not used
   * is dropped ({@link drop}).
   */
  async reserveAhead(key: string, wanted: number, leadMs: number, catchUpMs = 0): Promise<RateGrant> {
    return this.acquire(key, wanted, 0, leadMs, catchUpMs);
  }

  /** Dates the first `used` reservations of `grant` now and drops the rest. */
  async commit(key: string, grant: RateGrant, used: number): Promise<void> {
    await this.command.nrbRateCommit(key, grant.id, used, grant.granted, this.perMs);
  }

  /** Drops slots of `grant` (numbered from 1) that will not be used. */
  async drop(key: string, grant: RateGrant, slots: number[]): Promise<void> {
    if (slots.length > 0) await this.command.nrbRateDrop(key, grant.id, ...slots);
  }

  /** Counts one start now; 0 when counted, else the ms until the window has room. */
  async take(key: string): Promise<number> {
    const grant = await this.reserve(key, 1, 0);
    return grant.granted > 0 ? 0 : Math.min(grant.waitMs, this.perMs);
  }

  private async acquire(key: string, wanted: number, holdMs: number, leadMs: number, catchUpMs = 0): Promise<RateGrant> {
    const id = randomBytes(8).toString('hex');
    const [granted, waitMs, ...offsets] = (await this.command.nrbRateAcquire(key, this.max, wanted, this.perMs, holdMs, id, leadMs, catchUpMs)).map(Number);
    return { id, granted, waitMs, offsets };
  }
}
