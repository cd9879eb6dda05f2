import { Logger } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { QueueKeys } from '../core/keys.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';

/**
 * Moves delayed and retried messages onto the queue when they are due. Wakes
 * when the earliest known message is due, and at least every `pollMs` (other
 * processes add delayed messages too). Any number of processes may promote
 * the same queue: each step is one atomic script.
 */
export class DelayedSetPromoter {
  private readonly logger = new Logger(DelayedSetPromoter.name);
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private running = false;
  private tick: Promise<void> | undefined;

  constructor(
    private readonly keys: QueueKeys,
    private readonly command: RedisClient,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.tick;
  }

  /** A message of ours becomes due in `ms`: wake then if that is sooner. */
  nudge(ms: number): void {
    if (this.running && Date.now() + ms < this.wakeAt) this.schedule(ms);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.wakeAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.tick = this.promote();
    }, ms);
  }

  private async promote(): Promise<void> {
    let next = this.pollMs;
    try {
      const [moved, nextDueMs] = await this.command.nrbPromote(this.keys.delayed, this.keys.list, BROKER_DEFAULTS.delayedPromoteBatch);
      if (moved >= BROKER_DEFAULTS.delayedPromoteBatch) next = 0;
      else if (nextDueMs >= 0) next = Math.min(nextDueMs, this.pollMs);
    } catch (error) {
      this.logger.error(`Promoting delayed messages of queue "${this.keys.queue}" failed: ${String(error)}`);
    }
    if (this.running && this.timer !== undefined && this.wakeAt === Number.POSITIVE_INFINITY) this.schedule(next);
  }
}
