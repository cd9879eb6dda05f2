import { Logger } from '@nestjs/common';
import { errorText } from '../core/error-text.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { settledBy } from '../runtime/deadline.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import { decideTick, NextRunCalculator } from './next-run.calculator.js';
import { parseOutboxMember, type DueSchedule, type ScheduleStore } from './schedule.store.js';
import type { TickDeliverer } from './tick.deliverer.js';
import type { StoredSchedule } from './schedule.options.js';

const S = BROKER_DEFAULTS.schedule;

/**
 * The loop every process runs: read what is due by the Redis clock (one
 * script call), claim each due tick (only one process wins a tick), deliver
 * the ticks it won, deliver ticks left in the outbox by a process that died
 * between claim and delivery, then sleep until the earliest next run, at
 * most `maxSleepMs` (how soon a schedule added elsewhere is seen). A sleep
 * is cut short by `wake()` (a local change) and by `stop()`.
 */
export class SchedulePoller {
  private readonly logger = new Logger(SchedulePoller.name);
  private readonly errors = new LogThrottle();
  private readonly deliveryErrors = new LogThrottle();
  private stopped = false;
  /** Set by `wake()`: a change came in during a poll, so no sleep after it. */
  private woken = false;
  private failures = 0;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;
  /** Whether `startWhenAny` watches (until it starts the loop or is stopped). */
  private watching = false;
  private before: (() => Promise<void>)[] = [];

  constructor(
    private readonly store: ScheduleStore,
    private readonly deliverer: TickDeliverer,
  ) {}

  /** Starts the loop; `before` steps (storing the app's schedules) run before its first poll, until they succeed. */
  start(before: (() => Promise<void>)[] = []): void {
    if (this.stopped) return;
    this.before.push(...before);
    this.running ??= this.loop();
  }

  /**
   * For a process with no schedule of its own: checks now, then every
   * `everyMs` (0: only now), whether any schedule (or claimed tick) exists,
   * and starts the loop once one does, so a schedule created at run time by
   * a replica that then stopped is taken over. A check that fails starts
   * the loop too (polling is the side that loses no tick). Nothing else is
   * sent meanwhile.
   */
  startWhenAny(exists: () => Promise<boolean>, everyMs: number): void {
    if (this.stopped || this.running || this.watching) return;
    this.watching = true;
    void (async () => {
      while (!this.stopped && !this.running) {
        let found: boolean;
        try {
          found = await exists();
        } catch {
          found = true;
        }
        if (found) {
          this.start();
          return;
        }
        if (everyMs === 0) return;
        await this.sleep(everyMs);
      }
    })();
  }

  /**
   * Ends the loop after its current step; resolves when it has ended, or
   * after `stopGraceMs` when that step waits on a Redis that is down (the
   * command left behind fails when the connection closes at shutdown). An
   * idle watch is not waited for: it only reads, and never starts the loop
   * once stopped.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    if (this.running) await settledBy(this.running, Date.now() + BROKER_DEFAULTS.stopGraceMs);
  }

  /** Polls now instead of at the end of the current sleep. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let sleepMs: number;
      this.woken = false;
      try {
        while (this.before.length > 0) {
          await this.before[0]();
          this.before.shift();
        }
        sleepMs = await this.pollOnce();
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        sleepMs = Math.min(S.errorBackoffMs.initial * 2 ** (this.failures - 1), S.errorBackoffMs.max);
        const count = this.errors.note();
        if (count !== undefined) this.logger.error(`Schedule poll failed (${count}× since the last report): ${errorText(error)}; retrying in ${sleepMs} ms.`);
      }
      if (!this.stopped && !this.woken && sleepMs > 0) await this.sleep(sleepMs);
    }
  }

  /** One poll; returns how long to sleep before the next. */
  private async pollOnce(): Promise<number> {
    const poll = await this.store.due(S.claimBatch, S.outboxStaleMs);
    for (const due of poll.due) {
      if (this.stopped) return 0;
      await this.claimAndDeliver(due, poll.now);
    }
    for (const member of poll.stale) await this.redeliver(member);
    if (poll.due.length > 0) return 0; // more may be due: the next poll comes at once
    if (poll.earliest === null) return S.maxSleepMs;
    return Math.min(Math.max(poll.earliest - poll.now, 0), S.maxSleepMs);
  }

  private async claimAndDeliver({ id, tick, schedule }: DueSchedule, now: number): Promise<void> {
    if (!schedule) {
      this.logger.error(`Schedule ${id} is due but its definition is missing or unreadable; it is skipped until it is scheduled again.`);
      await this.store.claim(id, tick, null, false, 0);
      return;
    }
    const { fire, next } = decideTick(new NextRunCalculator(schedule.timing), schedule.timing, tick, now);
    const claimed = await this.store.claim(id, tick, next, fire, schedule.timing.limit ?? 0);
    if (claimed === 'fired') await this.deliver(id, tick, schedule, `${tick} ${id}`);
  }

  private async redeliver(member: string): Promise<void> {
    const parsed = parseOutboxMember(member);
    const schedule = parsed && (await this.store.definition(parsed.id));
    // A tick of a schedule removed since its claim is dropped with it.
    if (parsed && schedule) await this.deliver(parsed.id, parsed.tick, schedule, member);
    else await this.store.delivered(member);
  }

  /**
   * Writes a claimed tick and takes it off the outbox. A target that cannot
   * be written (its Cluster master down) delays only its own ticks: they stay
   * in the outbox, delivered by a later poll, and the other schedules go on.
   */
  private async deliver(id: string, tick: number, schedule: StoredSchedule, member: string): Promise<void> {
    try {
      await this.deliverer.deliver(id, tick, schedule);
    } catch (error) {
      const count = this.deliveryErrors.note();
      if (count !== undefined) {
        this.logger.error(`Could not deliver tick ${tick} of schedule ${id} (${count} failed deliveries since the last report): ${errorText(error)}; it stays in the outbox and is delivered again in ${S.outboxStaleMs} ms.`);
      }
      return;
    }
    await this.store.delivered(member);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = (): void => done();
      this.wakeUp = wake;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
