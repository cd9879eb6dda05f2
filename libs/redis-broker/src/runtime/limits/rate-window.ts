import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';

/** Starts counted into the window by one `reserve`; `waitMs` when none were. */
export interface RateGrant {
  id: string;
  granted: number;
  /** Ms until the window has room; -1 when its members are all reservations still ahead. */
  waitMs: number;
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
    const id = randomBytes(8).toString('hex');
    const [granted, waitMs] = await this.command.nrbRateAcquire(key, this.max, wanted, this.perMs, holdMs, id);
    return { id, granted, waitMs };
  }

  /** Dates the first `used` reservations of `grant` now and drops the rest. */
  async commit(key: string, grant: RateGrant, used: number): Promise<void> {
    await this.command.nrbRateCommit(key, grant.id, used, grant.granted, this.perMs);
  }

  /** Counts one start now; 0 when counted, else the ms until the window has room. */
  async take(key: string): Promise<number> {
    const grant = await this.reserve(key, 1, 0);
    if (grant.granted > 0) return 0;
    return grant.waitMs < 0 ? this.perMs : grant.waitMs;
  }
}
