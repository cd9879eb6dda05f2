import { Cron } from 'croner';
import type { StoredTiming } from './schedule.options.js';

/**
 * The next-run arithmetic of a schedule, pure (times are epoch ms, read from
 * the Redis clock by the caller): cron through croner in the schedule's time
 * zone, `every` as whole periods from `startAt` (or from the epoch).
 */
export class NextRunCalculator {
  private readonly cron: Cron | undefined;

  constructor(private readonly timing: StoredTiming) {
    this.cron = timing.cron === undefined ? undefined : new Cron(timing.cron, { timezone: timing.timeZone ?? 'UTC', paused: true });
  }

  /** The first run at or after `now` and `startAt`, or null when none is left before `endAt`. */
  firstRun(now: number): number | null {
    const { startAt } = this.timing;
    if (startAt !== undefined && startAt > now) return this.within(this.after(startAt - 1));
    return this.within(this.after(now - 1));
  }

  /** The first run strictly after `time`, or null when none is left before `endAt`. */
  runAfter(time: number): number | null {
    return this.within(this.after(time));
  }

  private after(time: number): number | null {
    if (this.cron) return this.cron.nextRun(new Date(time))?.getTime() ?? null;
    const every = this.timing.every as number;
    const anchor = this.timing.startAt ?? 0;
    if (time < anchor) return anchor;
    return anchor + (Math.floor((time - anchor) / every) + 1) * every;
  }

  private within(run: number | null): number | null {
    if (run === null) return null;
    const { endAt } = this.timing;
    return endAt !== undefined && run > endAt ? null : run;
  }
}

/** What one poll does with a due tick. */
export interface TickDecision {
  /** Fire the tick (a message goes to the target). */
  fire: boolean;
  /** The run after it, or null when the schedule ends. */
  next: number | null;
}

/**
 * Decides a due tick `tick` seen at `now` (Redis clock): on time (within
 * `misfireGraceMs`) it fires and the schedule moves to the run after it, so
 * a poller that fell briefly behind catches up tick by tick, with no gap.
 * Later than that it is missed: with `fire-once` it fires, with `skip` it
 * does not, and either way the schedule jumps to the first run after `now`:
 * a long outage never becomes a burst.
 */
export function decideTick(calculator: NextRunCalculator, stored: StoredTiming, tick: number, now: number): TickDecision {
  if (now - tick <= stored.misfireGraceMs) return { fire: true, next: calculator.runAfter(tick) };
  return { fire: stored.misfire === 'fire-once', next: calculator.runAfter(now) };
}
