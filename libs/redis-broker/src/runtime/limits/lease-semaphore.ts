import { randomBytes } from 'node:crypto';
import type { LimitKeys } from '../../core/keys.js';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';

/** Leases taken by one `acquire`; `waitMs` when none were. */
export interface LeaseGrant {
  leases: string[];
  /** Ms until the first lease of another run expires. */
  waitMs: number;
}

/**
 * `globalConcurrency`: at most `limit` leases at once across all processes
 * (`lease-*.lua`). A lease expires `leaseMs` after it was taken or last
 * renewed, so a killed process frees its slots; a live one renews the leases
 * of its running handlers.
 */
export class LeaseSemaphore {
  constructor(
    private readonly command: RedisClient,
    private readonly keys: LimitKeys,
    readonly limit: number,
    readonly leaseMs: number,
  ) {}

  async acquire(wanted: number): Promise<LeaseGrant> {
    const id = randomBytes(8).toString('hex');
    const [granted, waitMs] = await this.command.nrbLeaseAcquire(this.keys.leases, this.limit, wanted, this.leaseMs, id);
    const leases: string[] = [];
    for (let i = 1; i <= granted; i += 1) leases.push(`${id}:${i}`);
    return { leases, waitMs };
  }

  /** Gives leases back and wakes as many waiters. */
  async release(leases: readonly string[]): Promise<void> {
    if (leases.length === 0) return;
    // The release list lives a while without releases: long enough for any waiter's block.
    await this.command.nrbLeaseRelease(this.keys.leases, this.keys.released, this.limit, this.leaseMs, ...leases);
  }

  /** Renews live leases; returns how many of `leases` had expired already. */
  async renew(leases: readonly string[]): Promise<number> {
    if (leases.length === 0) return 0;
    const renewed = await this.command.nrbLeaseRenew(this.keys.leases, this.leaseMs, ...leases);
    return leases.length - renewed;
  }

  /**
   * Blocks (on `blocking`, a connection of the caller's own) until a lease is
   * released or `timeoutMs` passes. True when woken by a release.
   */
  async waitForRelease(blocking: RedisClient, timeoutMs: number): Promise<boolean> {
    const popped = await blocking.blpop(this.keys.released, Math.max(0.01, timeoutMs / 1000));
    return popped !== null;
  }
}
