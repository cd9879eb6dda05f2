import { Inject, Injectable, Logger } from '@nestjs/common';
import { errorText } from '../core/error-text.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { HandlerRegistry } from '../discovery/handler.registry.js';
import { BrokerCatalog, type BrokerOverview } from '../observability/broker-catalog.js';
import { ChannelSubscriptionService } from '../pubsub/channel-subscription.service.js';
import { describeTarget } from '../core/channel-target.js';
import type { ChannelListenerStats } from '../pubsub/channel-listener.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { ThroughputRecorder, type RecentFailure, type ThroughputBucket } from './throughput.recorder.js';
import { ScheduleStore } from '../schedule/schedule.store.js';
import type { ScheduleInfo } from '../schedule/schedule.options.js';

/**
 * A handler of the process serving the dashboard.
 * @publicApi
 */
export interface DashboardHandler {
  kind: 'queue' | 'stream' | 'channel';
  /** Queue name, `stream/group`, or `channel "name"` / `pattern "p"` / `sharded channel "name"`. */
  source: string;
  handler: string;
}

/**
 * What `GET <path>/api/overview` returns.
 * @publicApi
 */
export interface DashboardOverview extends BrokerOverview {
  keyPrefix: string;
  /** Handlers running in the process that serves the dashboard. */
  handlers: DashboardHandler[];
  /** Buffers and counters of this process' channel listeners (decorated and runtime). */
  listeners: ChannelListenerStats[];
  throughput: { sliceMs: number; slices: ThroughputBucket[] };
  recentFailures: RecentFailure[];
  /** Every schedule under the key prefix: target, timing, next run, last run, runs. */
  schedules: ScheduleInfo[];
}

/**
 * Assembles the dashboard's overview: Redis counts of everything the broker
 * holds, plus this process' handlers and throughput. Calls that arrive while
 * a read runs share it, so however many pages poll, one read at a time hits Redis.
 */
@Injectable()
export class DashboardOverviewService {
  private readonly catalog: BrokerCatalog;
  private readonly schedules: ScheduleStore;
  private readonly scheduleErrors = new LogThrottle();
  private readonly logger = new Logger(DashboardOverviewService.name);
  private reading: Promise<DashboardOverview> | undefined;

  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
    private readonly registry: HandlerRegistry,
    private readonly recorder: ThroughputRecorder,
    private readonly channels: ChannelSubscriptionService,
  ) {
    this.catalog = new BrokerCatalog(command, options.keyPrefix);
    this.schedules = new ScheduleStore(command, options.keyPrefix);
  }

  overview(): Promise<DashboardOverview> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<DashboardOverview> {
    const handlers = this.registry.all();
    // This process' handlers are listed even before their consumer's registry record lands.
    const [counts, schedules] = await Promise.all([
      this.catalog.overview({ queues: this.registry.queues(), streams: this.registry.streamGroups().map((g) => g.stream) }),
      // An operator ACL from before schedules (no HGETALL) must not take the rest of the page down.
      this.schedules.list().catch((error: unknown) => {
        const count = this.scheduleErrors.note();
        if (count !== undefined) this.logger.warn(`Could not read the schedules (${count}× since the last report): ${errorText(error)}`);
        return [];
      }),
    ]);
    return {
      ...counts,
      keyPrefix: this.options.keyPrefix,
      handlers: handlers.flatMap((d): DashboardHandler[] => {
        if (d.kind === 'queue') return [{ kind: 'queue', source: d.queue, handler: d.target }];
        if (d.kind === 'stream') return [{ kind: 'stream', source: `${d.stream}/${d.group}`, handler: d.target }];
        return [{ kind: 'channel', source: describeTarget(d.channel), handler: d.target }];
      }),
      listeners: this.channels.stats(),
      throughput: { sliceMs: this.recorder.sliceMs, slices: this.recorder.throughput() },
      recentFailures: this.recorder.recentFailures(),
      schedules,
    };
  }
}
