import { Cron } from 'croner';
import { assertValidName, assertValidScheduleId } from '../core/keys.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { expectRecord, fail, int, oneOf, rejectUnknown } from '../core/options/option-checks.js';
import type { ScheduleTarget, ScheduleTiming, StoredSchedule, StoredTiming } from './schedule.options.js';

/** The keys of a schedule's timing, as accepted by `schedule()` and `@Scheduled`. */
export const TIMING_KEYS = ['cron', 'every', 'timeZone', 'startAt', 'endAt', 'limit', 'misfire', 'misfireGraceMs'] as const;

const DAY_MS = 86_400_000;
const MAX_EVERY_MS = 366 * DAY_MS;

/**
 * Validates a schedule's id, timing, target and payload; every failure throws
 * `InvalidBrokerOptionsError` naming the option (under `path`) and its value.
 */
export function resolveSchedule(path: string, id: unknown, timing: unknown, target: unknown, payload: unknown): StoredSchedule {
  assertValidScheduleId(id);
  return { timing: resolveTiming(path, timing), target: resolveTarget(`${path}.target`, target, payload), payload: payload ?? null };
}

/** Validates a timing alone (unknown keys rejected); `path` names it in errors. */
export function resolveTiming(path: string, raw: unknown, extraKeys: readonly string[] = []): StoredTiming {
  expectRecord(path, raw);
  const options = raw as ScheduleTiming;
  rejectUnknown(`${path}.`, options, [...TIMING_KEYS, ...extraKeys]);
  const { cron, every, timeZone } = options;
  if ((cron === undefined) === (every === undefined)) fail(path, { cron, every }, 'exactly one of cron or every');
  const timing: StoredTiming = { misfire: 'fire-once', misfireGraceMs: 0 };
  if (cron !== undefined) {
    if (typeof cron !== 'string' || cron.trim() === '') fail(`${path}.cron`, cron, 'a cron expression');
    timing.cron = cron;
    if (timeZone !== undefined) timing.timeZone = resolveTimeZone(`${path}.timeZone`, timeZone);
    try {
      new Cron(cron, { timezone: timing.timeZone ?? 'UTC', paused: true }).nextRun();
    } catch (error) {
      fail(`${path}.cron`, cron, `a cron expression (${error instanceof Error ? error.message : String(error)})`);
    }
  } else {
    timing.every = int(`${path}.every`, every, 0, BROKER_DEFAULTS.schedule.minEveryMs, MAX_EVERY_MS);
    if (timeZone !== undefined) fail(`${path}.timeZone`, timeZone, 'no time zone with every (a period is the same in every zone)');
  }
  const startAt = time(`${path}.startAt`, options.startAt);
  const endAt = time(`${path}.endAt`, options.endAt);
  if (startAt !== undefined) timing.startAt = startAt;
  if (endAt !== undefined) timing.endAt = endAt;
  if (startAt !== undefined && endAt !== undefined && endAt < startAt) fail(`${path}.endAt`, options.endAt, 'a time at or after startAt');
  if (options.limit !== undefined) timing.limit = int(`${path}.limit`, options.limit, 0, 1);
  timing.misfire = oneOf(`${path}.misfire`, options.misfire, BROKER_DEFAULTS.schedule.misfire, ['fire-once', 'skip'] as const);
  timing.misfireGraceMs = int(`${path}.misfireGraceMs`, options.misfireGraceMs, BROKER_DEFAULTS.schedule.misfireGraceMs, 0, DAY_MS);
  return timing;
}

function resolveTarget(path: string, raw: unknown, payload: unknown): ScheduleTarget {
  expectRecord(path, raw);
  const target = raw as Record<string, unknown>;
  rejectUnknown(`${path}.`, target, ['queue', 'stream']);
  if (('queue' in target) === ('stream' in target)) fail(path, raw, '{ queue: name } or { stream: name }');
  if ('queue' in target) {
    assertValidName('queue', target.queue);
    if (JSON.stringify(payload ?? null) === undefined) fail(`${path}.payload`, payload, 'a JSON value');
    return { queue: target.queue };
  }
  assertValidName('stream', target.stream);
  if (payload !== undefined && payload !== null) {
    if (typeof payload !== 'object' || Array.isArray(payload)) fail(`${path}.payload`, payload, 'an object of stream fields (or nothing)');
  }
  return { stream: target.stream };
}

function resolveTimeZone(path: string, zone: unknown): string {
  if (typeof zone !== 'string') fail(path, zone, 'an IANA time zone such as "Europe/Berlin"');
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return fail(path, zone, 'an IANA time zone such as "Europe/Berlin"');
  }
}

function time(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) fail(path, value, 'a Date or whole epoch ms');
  return ms;
}
