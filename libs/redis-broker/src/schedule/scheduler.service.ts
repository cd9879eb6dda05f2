import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { assertValidScheduleId } from '../core/keys.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { NameRegistry } from '../core/redis/name.registry.js';
import type { RedisClient } from '../core/redis/redis-client.js';
import { resolveSchedule } from './schedule-definition.validation.js';
import type { ScheduleInfo, ScheduleTarget, ScheduleTiming } from './schedule.options.js';
import { SchedulePoller } from './schedule.poller.js';
import { ScheduleStore } from './schedule.store.js';
import { ScheduledExplorer } from './scheduled.explorer.js';
import { TickDeliverer } from './tick.deliverer.js';

/**
 * Distributed schedules, injectable anywhere once the module is imported.
 * A schedule sends one message per tick to a queue or a stream, once across
 * all processes: ticks are claimed in Redis by a script on the Redis clock.
 * A process (without `producerOnly`) polls once it has a reason: a
 * `@Scheduled` method, a `schedule()` call, or schedules stored in Redis
 * (checked at boot, then every `scheduleCheckMs`); it sleeps until the
 * earliest next run, at most 1 s (a schedule added by another process is
 * seen within that). An app that uses no schedule sends two `ZCARD`s per
 * check. See docs/schedules.md.
 * @publicApi
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly store: ScheduleStore;
  private readonly poller: SchedulePoller;

  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
    names: NameRegistry,
    private readonly explorer: ScheduledExplorer,
  ) {
    this.store = new ScheduleStore(command, options.keyPrefix);
    this.poller = new SchedulePoller(this.store, new TickDeliverer(command, options.keyPrefix, names));
  }

  onApplicationBootstrap(): void {
    // Validated now: a bad @Scheduled fails bootstrap, naming Class@method and the option.
    const found = this.explorer.explore();
    if (this.options.producerOnly) return;
    if (found.length === 0) {
      // An app that has no schedule of its own polls only once schedules exist (checked every scheduleCheckMs).
      this.poller.startWhenAny(async () => !(await this.store.isEmpty()), this.options.scheduleCheckMs);
      return;
    }
    // Stored by the poller before its first poll (and again after a failure): a Redis that is down at boot does not hold the start.
    this.poller.start(found.map(({ id, schedule }) => () => this.store.upsert(id, schedule).then(() => undefined)));
    this.logger.log(`Scheduled: ${found.map((f) => `${f.id} (${f.target})`).join(', ')}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.poller.stop();
  }

  /**
   * Creates or changes the schedule `id`: from then on each tick of
   * `timing` (`cron` or `every`, with `timeZone`, `startAt`, `endAt`,
   * `limit`, `misfire`) sends `payload` to `target` (`{ queue }`: a message
   * with id `<id>@<tick ms>` and headers `nrb-schedule`, `nrb-tick`;
   * `{ stream }`: an entry of the payload's fields plus those headers).
   * Idempotent: the same definition again (another replica booting) changes
   * nothing and keeps its next run; a different one replaces it (next run
   * recomputed, runs so far kept). Resolves to what happened. A bad
   * definition throws `InvalidBrokerOptionsError` naming the option.
   */
  async schedule(id: string, timing: ScheduleTiming, target: ScheduleTarget, payload?: unknown): Promise<'created' | 'changed' | 'unchanged'> {
    const stored = resolveSchedule('schedule', id, timing, target, payload);
    const result = await this.store.upsert(id, stored);
    if (!this.options.producerOnly) {
      this.poller.start();
      this.poller.wake();
    }
    return result;
  }

  /** Deletes the schedule `id`: no tick of it is sent any more. Resolves to whether it existed. */
  async unschedule(id: string): Promise<boolean> {
    assertValidScheduleId(id);
    return this.store.remove(id);
  }

  /** Every schedule, by id: target, definition, payload, next run, last run, runs so far. */
  schedules(): Promise<ScheduleInfo[]> {
    return this.store.list();
  }
}
