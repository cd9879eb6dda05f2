import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BROKER_METRICS_OPTIONS } from '../core/constants.js';
import { HandlerRegistry } from '../discovery/handler.registry.js';
import { messages } from '../core/messages.js';
import { QueueInspector, type QueueStats } from '../queue/queue.inspector.js';
import { StreamInspector, type StreamStats } from '../stream/stream.inspector.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { ConsumerRunner } from '../broker/consumer.runner.js';
import { errorText } from '../core/error-text.js';
import { BrokerEvents, type BrokerEventMap } from '../core/events.js';
import type { ResolvedBrokerMetricsOptions } from './broker-metrics.options.js';

/** What one scrape reads from Redis; shared by every gauge of that scrape. */
interface RedisSnapshot {
  queues: QueueStats[];
  streams: StreamStats[];
}

const HANDLER_LABELS = ['kind', 'source', 'handler'] as const;

/**
 * The broker's Prometheus metrics (prom-client): counters and the handler
 * duration histogram follow `BrokerEvents` as they happen; queue depths and
 * stream group and consumer gauges are read when scraped. Serve `metricsText()` from any route
 * (the app owns `/metrics`).
 * @publicApi
 */
@Injectable()
export class BrokerMetrics implements OnModuleDestroy {
  /** The registry holding the broker's metrics (and the default process metrics unless disabled). */
  readonly registry: Registry;
  private readonly logger = new Logger(BrokerMetrics.name);
  private readonly detach: (() => void)[] = [];
  private snapshotting: Promise<RedisSnapshot | undefined> | undefined;

  constructor(
    @Inject(BROKER_METRICS_OPTIONS) private readonly options: ResolvedBrokerMetricsOptions,
    private readonly events: BrokerEvents,
    private readonly inspector: QueueInspector,
    private readonly streamInspector: StreamInspector,
    private readonly handlers: HandlerRegistry,
    private readonly runner: ConsumerRunner,
  ) {
    this.registry = options.registry ?? new Registry();
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.registerEventMetrics();
    this.registerScrapedMetrics();
  }

  /** Content type of `metricsText()`, for the HTTP response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of the registry in Prometheus text format; Redis counts are read now (bounded by a timeout). */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  onModuleDestroy(): void {
    for (const off of this.detach.splice(0)) off();
  }

  private name(base: string): string {
    return `${this.options.prefix}${base}`;
  }

  private registerEventMetrics(): void {
    const registers = [this.registry];
    const handled = new Counter({ name: this.name('messages_handled_total'), help: 'Messages a handler finished without error.', labelNames: HANDLER_LABELS, registers });
    const failed = new Counter({ name: this.name('messages_failed_total'), help: 'Handler runs that threw (before the retry or dead-letter decision).', labelNames: HANDLER_LABELS, registers });
    const retried = new Counter({ name: this.name('messages_retried_total'), help: 'Failed messages scheduled for another attempt.', labelNames: HANDLER_LABELS, registers });
    const dead = new Counter({ name: this.name('messages_dead_lettered_total'), help: 'Messages moved to a dead-letter place, by reason.', labelNames: [...HANDLER_LABELS, 'reason'], registers });
    const dropped = new Counter({ name: this.name('messages_dropped_total'), help: 'Messages dropped on purpose (a full pub/sub buffer).', labelNames: ['kind', 'source'], registers });
    const duration = new Histogram({
      name: this.name('handler_duration_seconds'),
      help: 'Time a handler ran per message, by outcome (handled or failed).',
      labelNames: [...HANDLER_LABELS, 'outcome'],
      buckets: this.options.durationBuckets,
      registers,
    });
    const wait = new Histogram({
      name: this.name('queue_wait_seconds'),
      help: 'Time a message waited before its handler started: since enqueue (retries and delays included) or the stream entry id time; only messages whose enqueue time is known.',
      labelNames: ['kind', 'source'],
      buckets: [...BROKER_DEFAULTS.observability.waitBucketsSeconds],
      registers,
    });
    const limited = new Counter({
      name: this.name('limited_waits_total'),
      help: 'Waits on a cross-process limit (rate, globalConcurrency) and messages deferred over their key\'s rate limit (rateKey).',
      labelNames: [...HANDLER_LABELS, 'limit'],
      registers,
    });
    const reconnects = new Counter({ name: this.name('redis_reconnects_total'), help: 'Redis connections ready again after being lost, by role.', labelNames: ['role'], registers });

    this.listen('handled', (e) => {
      handled.inc({ kind: e.kind, source: e.source, handler: e.handler });
      duration.observe({ kind: e.kind, source: e.source, handler: e.handler, outcome: 'handled' }, e.durationMs / 1000);
      if (e.waitMs !== undefined) wait.observe({ kind: e.kind, source: e.source }, e.waitMs / 1000);
    });
    this.listen('failed', (e) => {
      failed.inc({ kind: e.kind, source: e.source, handler: e.handler });
      duration.observe({ kind: e.kind, source: e.source, handler: e.handler, outcome: 'failed' }, e.durationMs / 1000);
      if (e.waitMs !== undefined) wait.observe({ kind: e.kind, source: e.source }, e.waitMs / 1000);
    });
    this.listen('retried', (e) => retried.inc({ kind: e.kind, source: e.source, handler: e.handler }));
    this.listen('deadLettered', (e) => dead.inc({ kind: e.kind, source: e.source, handler: e.handler, reason: e.reason }));
    this.listen('dropped', (e) => dropped.inc({ kind: e.kind, source: e.source }, e.count));
    this.listen('reconnected', (e) => reconnects.inc({ role: e.role }));
    this.listen('limited', (e) => limited.inc({ kind: e.kind, source: e.source, handler: e.handler, limit: e.limit }));
  }

  private registerScrapedMetrics(): void {
    const registers = [this.registry];
    const snapshot = (): Promise<RedisSnapshot | undefined> => this.snapshot();
    const queueGauge = (base: string, help: string, field: 'waiting' | 'processing' | 'delayed' | 'dead'): void => {
      new Gauge({
        name: this.name(base),
        help,
        labelNames: ['queue'],
        registers,
        async collect() {
          const read = await snapshot();
          if (!read) return;
          this.reset();
          for (const stats of read.queues) this.set({ queue: stats.queue }, stats[field]);
        },
      });
    };
    queueGauge('queue_waiting', 'Messages waiting on a list queue (queue depth).', 'waiting');
    queueGauge('queue_processing', 'Messages taken by reliable consumers and not yet settled (in flight, all processes).', 'processing');
    queueGauge('queue_delayed', 'Delayed messages and retries not yet due.', 'delayed');
    queueGauge('queue_dead_letters', 'Messages in the dead-letter list of a queue.', 'dead');

    new Gauge({
      name: this.name('stream_length'),
      help: 'Entries in a stream (XLEN).',
      labelNames: ['stream'],
      registers,
      async collect() {
        const read = await snapshot();
        if (!read) return;
        this.reset();
        for (const stats of read.streams) this.set({ stream: stats.stream }, stats.length);
      },
    });
    const groupGauge = (base: string, help: string, field: 'pending' | 'lag' | 'dead'): void => {
      new Gauge({
        name: this.name(base),
        help,
        labelNames: ['stream', 'group'],
        registers,
        async collect() {
          const read = await snapshot();
          if (!read) return;
          this.reset();
          for (const stats of read.streams) {
            for (const group of stats.groups) {
              const value = group[field];
              // Redis reports no lag after deletions in the unread range: no sample rather than a wrong one.
              if (value !== null) this.set({ stream: stats.stream, group: group.group }, value);
            }
          }
        },
      });
    };
    groupGauge('stream_pending', 'Entries delivered to a consumer group and not yet acknowledged.', 'pending');
    groupGauge('stream_lag', 'Entries of a stream not yet delivered to a consumer group (Redis 7 lag).', 'lag');
    groupGauge('stream_dead_letters', "Entries in a consumer group's dead-letter stream.", 'dead');

    const runner = this.runner;
    new Gauge({
      name: this.name('consumer_in_flight'),
      help: 'Messages this process holds per consumer (running plus waiting for a slot).',
      labelNames: ['consumer'],
      registers,
      collect() {
        this.reset();
        for (const health of runner.health()) this.set({ consumer: health.description }, health.inFlight);
      },
    });
    new Gauge({
      name: this.name('consumer_running'),
      help: '1 while a consumer loop of this process runs, 0 once stopping or stopped.',
      labelNames: ['consumer'],
      registers,
      collect() {
        this.reset();
        for (const health of runner.health()) this.set({ consumer: health.description }, health.state === 'running' ? 1 : 0);
      },
    });
  }

  /**
   * Reads the Redis side once per scrape: every gauge's `collect` runs in the
   * same tick and shares this promise. A scrape must answer even when Redis is
   * down, so the read is bounded; on timeout the previous values stay.
   */
  private snapshot(): Promise<RedisSnapshot | undefined> {
    this.snapshotting ??= this.readSnapshot().finally(() => {
      this.snapshotting = undefined;
    });
    return this.snapshotting;
  }

  private async readSnapshot(): Promise<RedisSnapshot | undefined> {
    const queues = [...new Set([...this.handlers.queues(), ...this.options.queues])];
    const streams = [...new Set([...this.handlers.streamGroups().map((g) => g.stream), ...this.options.streams])];
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = BROKER_DEFAULTS.observability.scrapeTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const read = Promise.all([
        Promise.all(queues.map((q) => this.inspector.stats(q))),
        Promise.all(streams.map((name) => this.streamInspector.stats(name))),
      ]);
      const [queueStats, streamStats] = await Promise.race([read, timeout]);
      return { queues: queueStats, streams: streamStats };
    } catch (error) {
      this.logger.warn(messages.metricsReadFailed(errorText(error)));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private listen<K extends keyof BrokerEventMap>(event: K, listener: (event: BrokerEventMap[K][0]) => void): void {
    // TypeScript cannot resolve EventEmitter's conditional listener type for a
    // generic key; the signature above is what keeps this call type-safe.
    const handler = listener as never;
    this.events.on(event, handler);
    this.detach.push(() => this.events.off(event, handler));
  }
}
