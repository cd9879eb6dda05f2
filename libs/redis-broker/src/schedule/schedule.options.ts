import type { QueueHandlerOptions } from '../core/options/handler.options.js';

/**
 * When a schedule runs: exactly one of `cron` or `every`.
 * @publicApi
 */
export interface ScheduleTiming {
  /**
   * A cron expression (croner syntax: 5 fields, or 6 with seconds first;
   * `@daily` and friends), read in `timeZone`.
   */
  cron?: string;
  /**
   * A fixed period in ms (at least 100): ticks at `startAt + k × every`,
   * or at whole multiples of `every` since the epoch without `startAt`.
   */
  every?: number;
  /** IANA time zone of `cron` (e.g. `Europe/Berlin`). Default UTC. Only with `cron`. */
  timeZone?: string;
  /** No tick before this time (a Date or epoch ms). */
  startAt?: Date | number;
  /** No tick after this time (a Date or epoch ms); the schedule then ends. */
  endAt?: Date | number;
  /** The schedule ends after this many fired ticks. Default: no limit. */
  limit?: number;
  /**
   * What happens to a tick claimed more than `misfireGraceMs` after its time
   * (every process was down, or Redis was): `fire-once` (default) fires it
   * once, however many ticks were missed, then resumes at the next future
   * tick; `skip` drops the missed ticks. Never a burst either way.
   */
  misfire?: 'fire-once' | 'skip';
  /** How late a tick may be claimed and still count as on time. Default 5000 ms. */
  misfireGraceMs?: number;
}

/**
 * Where a schedule's ticks go: a list queue or a stream (key prefix applied).
 * @publicApi
 */
export type ScheduleTarget = { queue: string } | { stream: string };

/**
 * Options of `@Scheduled`: its timing, the payload each tick carries, and
 * the options of the queue handler that runs it (retries, timeout, ...).
 * @publicApi
 */
export interface ScheduledOptions extends ScheduleTiming, QueueHandlerOptions {
  /** The payload of every tick (JSON). Default null. */
  payload?: unknown;
}

/**
 * One schedule as `SchedulerService.schedules()` lists it.
 * @publicApi
 */
export interface ScheduleInfo {
  id: string;
  target: ScheduleTarget;
  /** Its timing as stored (times as epoch ms). */
  definition: StoredTiming;
  payload: unknown;
  /** Its next run (epoch ms, Redis clock), or null when it will not run again. */
  nextRunAt: number | null;
  /** The time of its last fired tick (epoch ms), or null before the first. */
  lastRunAt: number | null;
  /** Ticks fired so far. */
  runs: number;
}

/**
 * A schedule's timing as stored and listed: validated, defaults applied,
 * times as epoch ms, in a fixed key order (its JSON is compared on upsert).
 * @publicApi
 */
export interface StoredTiming {
  cron?: string;
  every?: number;
  timeZone?: string;
  startAt?: number;
  endAt?: number;
  limit?: number;
  misfire: 'fire-once' | 'skip';
  misfireGraceMs: number;
}

/** What is stored per schedule: timing, target, payload. */
export interface StoredSchedule {
  timing: StoredTiming;
  target: ScheduleTarget;
  payload: unknown;
}
