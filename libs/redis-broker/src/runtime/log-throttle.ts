import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';

/**
 * At most one log line per interval for a repeating event (a failing hook or
 * listener, dropped messages): events are counted, and when a line is due
 * the count since the last line is handed over, so the line can say how many
 * it stands for and nothing goes uncounted.
 */
export class LogThrottle {
  private lastLineAt = -Infinity;
  private counted = 0;

  constructor(private readonly intervalMs: number = BROKER_DEFAULTS.logThrottleMs) {}

  /**
   * Counts `count` events; returns how many were counted since the last
   * line (these included) when a line is due now, else undefined.
   */
  note(count = 1, now = Date.now()): number | undefined {
    this.counted += count;
    if (now - this.lastLineAt < this.intervalMs) return undefined;
    this.lastLineAt = now;
    const counted = this.counted;
    this.counted = 0;
    return counted;
  }
}
