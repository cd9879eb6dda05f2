import type { RedisClient } from '../core/redis/redis-connection.factory.js';

/**
 * Deletes the consumers of one group that hold nothing and have been idle
 * longer than `idleConsumerTtlMs` (`XGROUP DELCONSUMER`, in one script with
 * the check that nothing is pending). Without it every restart under a fresh
 * consumer name (the default `instanceId` is one per process) leaves a name
 * in `XINFO CONSUMERS` forever. Runs from the reader's fetch, at most every
 * half bound (never more often than the reclaim interval), so a dead
 * consumer is gone within about 1.5 × the bound.
 */
export class IdleConsumerPruner {
  private nextAt = 0;
  private readonly intervalMs: number;

  constructor(
    private readonly keys: readonly string[],
    private readonly group: string,
    private readonly consumer: string,
    private readonly command: RedisClient,
    private readonly idleConsumerTtlMs: number,
    reclaimIntervalMs: number,
  ) {
    this.intervalMs = Math.max(reclaimIntervalMs, Math.floor(idleConsumerTtlMs / 2));
  }

  /** Deletes idle, empty consumers when a check is due; resolves to how many. */
  async pruneIfDue(): Promise<number> {
    const now = Date.now();
    if (now < this.nextAt) return 0;
    this.nextAt = now + this.intervalMs;
    let deleted = 0;
    for (const key of this.keys) {
      deleted += await this.command.nrbStreamIdleConsumers(key, this.group, this.idleConsumerTtlMs, this.consumer);
    }
    return deleted;
  }
}
