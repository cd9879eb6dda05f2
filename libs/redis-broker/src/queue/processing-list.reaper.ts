import { Logger } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { QueueKeys } from '../core/keys.js';
import { messages } from '../core/messages.js';

/** Timing and limits of one reaper. */
export interface ReaperOptions {
  heartbeatIntervalMs: number;
  consumerTtlMs: number;
  maxDeaths: number;
  deadLetterMaxEntries: number;
}

const EXPIRED_BATCH = 50;

/** What the reliable fetcher needs of its consumer's heartbeat. */
export interface ConsumerHeartbeat {
  /** The last heartbeat failed: the other processes may presume this consumer dead. */
  readonly failing: boolean;
  /** Sends one heartbeat now; rejects when it fails. Sends nothing once stopped. */
  beat(): Promise<void>;
  /** Stops the heartbeat, awaiting one in flight: none lands after it resolves. */
  stop(): Promise<void>;
}

/**
 * Keeps this consumer's heartbeat fresh and returns the processing lists of
 * consumers whose heartbeat expired (they crashed or were killed) to the
 * queue. A message that was running each time its consumer died `maxDeaths`
 * times is quarantined as poison instead of being returned forever.
 */
export class ProcessingListReaper implements ConsumerHeartbeat {
  private readonly logger = new Logger(ProcessingListReaper.name);
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private lastBeat: Promise<unknown> | undefined;
  private stopped = false;
  private failed = false;

  constructor(
    private readonly keys: QueueKeys,
    private readonly consumerId: string,
    private readonly command: RedisClient,
    private readonly options: ReaperOptions,
    /** Called once a dead consumer's processing list was emptied: `returned` messages went back to the queue, `quarantined` were dead-lettered as poison. */
    private readonly onReaped: (consumer: string, returned: number, quarantined: number) => void = () => undefined,
  ) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
    await this.lastBeat?.catch(() => undefined);
  }

  get failing(): boolean {
    return this.failed;
  }

  async beat(): Promise<void> {
    if (this.stopped) return;
    const { keys, options } = this;
    const beat = this.command.nrbHeartbeat(keys.consumers, this.consumerId, options.consumerTtlMs);
    this.lastBeat = beat;
    try {
      await beat;
    } catch (error) {
      this.failed = true;
      throw error;
    }
    this.failed = false;
  }

  /** One heartbeat and one reap pass; exposed so tests and `start` share it. */
  async runOnce(): Promise<void> {
    const { keys, options } = this;
    // No reaping on a failed heartbeat: whatever made it fail may have
    // silenced the others too.
    await this.beat();
    const expired = await this.command.nrbExpiredConsumers(keys.consumers, EXPIRED_BATCH);
    for (const consumer of expired) {
      if (consumer === this.consumerId) continue;
      const [returned, quarantined] = await this.command.nrbReap(
        keys.list, keys.processing(consumer), keys.waiting(consumer), keys.consumers, keys.deaths, keys.attempts,
        keys.deadIndex, keys.deadRecords, keys.deadMessages, keys.alive(consumer),
        consumer, options.maxDeaths, keys.queue, options.deadLetterMaxEntries,
      );
      if (returned >= 0) this.logger.warn(messages.reaped(keys.queue, consumer, returned, quarantined));
      if (returned > 0 || quarantined > 0) this.onReaped(consumer, returned, quarantined);
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
