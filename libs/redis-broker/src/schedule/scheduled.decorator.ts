import { applyDecorators, SetMetadata } from '@nestjs/common';
import { QUEUE_HANDLER_METADATA } from '../core/constants.js';
import { TIMING_KEYS } from './schedule-definition.validation.js';
import type { ScheduledOptions, ScheduleTiming } from './schedule.options.js';

/** Metadata key written by `@Scheduled`. */
export const SCHEDULED_METADATA = 'nest-redis-broker:scheduled';

/** What `@Scheduled` records on a method (validated at bootstrap). */
export interface ScheduledMetadata {
  name: string;
  timing: ScheduleTiming;
  payload: unknown;
}

/** The internal queue whose messages are the ticks of `@Scheduled(name)`. */
export function scheduledQueueName(name: string): string {
  return `nrb:scheduled:${name}`;
}

/**
 * Runs the method once per tick of a schedule across all replicas of the
 * app: the schedule `name` (its id in `SchedulerService.schedules()`) sends
 * each tick as a message to the internal queue `nrb:scheduled:<name>`, which
 * the method consumes as a reliable `@QueueHandler` would: the same
 * pipeline (enhancers, `@Payload()`, `@Ctx()`), retries, timeout and dead
 * letters. The payload is `options.payload` (default null); `ctx.id` is
 * `<name>@<tick ms>` and `ctx.headers['nrb-tick']` the tick time. Every
 * process that has the method claims ticks; Redis lets exactly one claim
 * each (see docs/schedules.md). A bad timing fails bootstrap naming the option.
 *
 * @example
 * ```ts
 * @Scheduled('nightly-report', { cron: '0 2 * * *', timeZone: 'Europe/Berlin' })
 * async report(@Ctx() ctx: QueueMessageContext) { ... }
 * ```
 * @publicApi
 */
export function Scheduled(name: string, options: ScheduledOptions): MethodDecorator {
  const timing: Record<string, unknown> = {};
  const handler: Record<string, unknown> = {};
  const { payload, ...rest } = options as ScheduledOptions & Record<string, unknown>;
  for (const [key, value] of Object.entries(rest)) {
    if ((TIMING_KEYS as readonly string[]).includes(key)) timing[key] = value;
    else handler[key] = value;
  }
  return applyDecorators(
    SetMetadata<string, ScheduledMetadata>(SCHEDULED_METADATA, { name, timing: timing, payload }),
    SetMetadata(QUEUE_HANDLER_METADATA, { queue: scheduledQueueName(name), options: handler }),
  );
}
