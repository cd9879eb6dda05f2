import { Logger } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { QueueKeys } from '../keys.js';
import { messages } from '../messages.js';

/** Timing and limits of one reaper. */
export interface ReaperOptions {
  heartbeatIntervalMs: number;
  consumerTtlMs: number;
  maxDeaths: number;
  deadLetterMaxEntries: number;
}

const EXPIRED_BATCH = 50;

/**
 * Keeps this consumer's heartbeat fresh and returns the processing lists of
 * consumers whose heartbeat expired (they crashed or were killed) to the
 * queue. A message that was running each time its consumer died `maxDeaths`
 * times is quarantined as poison instead of being returned forever.
 */
export class ProcessingListReaper {
  private readonly logger = new Logger(ProcessingListReaper.name);
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;

  constructor(
    private readonly keys: QueueKeys,
    private readonly consumerId: string,
    private readonly command: RedisClient,
    private readonly options: ReaperOptions,
  ) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  /** One heartbeat and one reap pass; exposed so tests and `start` share it. */
  async runOnce(): Promise<void> {
    const { keys, options } = this;
    await this.command.nrbHeartbeat(keys.consumers, this.consumerId, options.consumerTtlMs);
    const expired = await this.command.nrbExpiredConsumers(keys.consumers, EXPIRED_BATCH);
    for (const consumer of expired) {
      if (consumer === this.consumerId) continue;
      const [returned, quarantined] = await this.command.nrbReap(
        keys.list, keys.processing(consumer), keys.waiting(consumer), keys.consumers, keys.deaths, keys.attempts,
        keys.deadIndex, keys.deadRecords, keys.deadMessages, keys.alive(consumer),
        consumer, options.maxDeaths, keys.queue, options.deadLetterMaxEntries,
      );
      if (returned >= 0) this.logger.warn(messages.reaped(keys.queue, consumer, returned, quarantined));
    }
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.tick = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error(`Heartbeat/reap of queue "${this.keys.queue}" failed: ${String(error)}`);
        })
        .finally(() => {
          if (this.timer !== undefined) this.schedule(this.options.heartbeatIntervalMs);
        });
    }, delay);
  }
}
