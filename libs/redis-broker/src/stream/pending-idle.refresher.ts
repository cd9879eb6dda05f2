import { Logger } from '@nestjs/common';
import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';

/** Entry ids per script call: the ids travel as arguments, which Lua unpacks onto its stack. */
const REFRESH_BATCH = 500;

/**
 * Keeps the entries this consumer holds (running or waiting) from looking
 * abandoned: every `intervalMs` (a fraction of `claimIdleMs`) their idle time
 * is reset with `XCLAIM ... JUSTID` from this consumer, one script per key,
 * so another consumer's takeover never runs a live entry twice however long
 * its handler takes. An entry already taken over by another consumer is
 * left to it (the script checks ownership in the same step). Runs on the
 * command connection on a timer of its own; `stop` ends it, before the
 * connection is closed.
 */
export class PendingIdleRefresher {
  private readonly logger = new Logger(PendingIdleRefresher.name);
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly description: string,
    private readonly group: string,
    private readonly consumer: string,
    private readonly command: RedisClient,
    private readonly intervalMs: number,
    /** The entries held now, their ids by key. */
    private readonly held: () => Map<string, string[]>,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.refresh().finally(() => this.schedule());
    }, this.intervalMs);
  }

  /** Never rejects: a failure is logged once until a refresh succeeds again. */
  private async refresh(): Promise<void> {
    try {
      for (const [key, ids] of this.held()) {
        for (let at = 0; at < ids.length; at += REFRESH_BATCH) {
          await this.command.nrbStreamRefreshIdle(key, this.group, this.consumer, ...ids.slice(at, at + REFRESH_BATCH));
        }
      }
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(messages.streamIdleRefreshFailed(this.description, errorText(error)));
      this.failing = true;
    }
  }
}
