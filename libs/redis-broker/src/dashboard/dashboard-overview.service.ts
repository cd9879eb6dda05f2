import { Inject, Injectable } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../constants.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { HandlerRegistry } from '../discovery/handler.registry.js';
import { BrokerCatalog, type BrokerOverview } from '../observability/broker-catalog.js';
import { ChannelSubscriptionService } from '../pubsub/channel-subscription.service.js';
import { describeTarget } from '../pubsub/channel-target.js';
import type { ChannelListenerStats } from '../pubsub/channel.dispatcher.js';
import type { ResolvedBrokerOptions } from '../redis-broker.options.js';
import { ThroughputRecorder, type RecentFailure, type ThroughputBucket } from './throughput.recorder.js';

/** A handler of the process serving the dashboard. */
export interface DashboardHandler {
  kind: 'queue' | 'stream' | 'channel';
  /** Queue name, `stream/group`, or `channel "name"` / `pattern "p"` / `sharded channel "name"`. */
  source: string;
  handler: string;
}

/** What `GET <path>/api/overview` returns. */
export interface DashboardOverview extends BrokerOverview {
  keyPrefix: string;
  /** Handlers running in the process that serves the dashboard. */
  handlers: DashboardHandler[];
  /** Buffers and counters of this process' channel listeners (decorated and runtime). */
  listeners: ChannelListenerStats[];
  throughput: { sliceMs: number; slices: ThroughputBucket[] };
  recentFailures: RecentFailure[];
}

/** Assembles the dashboard's overview: Redis counts of everything the broker holds, plus this process' handlers and throughput. */
@Injectable()
export class DashboardOverviewService {
  private readonly catalog: BrokerCatalog;
  // A queue is found by its broker keys (consumers, delayed, dead); once its
  // dead letters are requeued and nobody consumes it reliably only the plain
  // list is left, which is indistinguishable from any other list. Names seen
  // once stay listed for the life of the process, so a queue does not vanish
  // from the page while it still holds messages.
  private readonly seenQueues = new Set<string>();
  private readonly seenStreams = new Set<string>();

  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
    private readonly registry: HandlerRegistry,
    private readonly recorder: ThroughputRecorder,
    private readonly channels: ChannelSubscriptionService,
  ) {
    this.catalog = new BrokerCatalog(command, options.keyPrefix);
  }

  async overview(): Promise<DashboardOverview> {
    const handlers = this.registry.all();
    const counts = await this.catalog.overview({
      queues: [...this.registry.queues(), ...this.seenQueues],
      streams: [...this.registry.streamGroups().map((g) => g.stream), ...this.seenStreams],
    });
    for (const q of counts.queues) this.seenQueues.add(q.queue);
    for (const s of counts.streams) this.seenStreams.add(s.stream);
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
    };
  }
}
