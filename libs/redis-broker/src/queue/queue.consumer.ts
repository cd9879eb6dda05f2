import { Logger } from '@nestjs/common';
import type { RedisClient, RedisConnectionFactory } from '../core/redis/redis-connection.factory.js';
import type { QueueHandlerDescriptor } from '../discovery/handler-descriptor.js';
import { QueueKeys } from '../core/keys.js';
import type { BrokerEvents } from '../core/events.js';
import { prefetchWindow } from '../core/options/handler-options.validation.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { ConsumerLoop } from '../runtime/consumer.loop.js';
import { fetchWindow } from '../runtime/fetch-window.js';
import { settledBy } from '../runtime/deadline.js';
import type { BrokerConsumer, ConsumerHealth } from '../runtime/message-source.js';
import { RunSignals } from '../runtime/run-signals.js';
import { DelayedSetPromoter } from './delayed-set.promoter.js';
import { FastListFetcher } from './fast-list.fetcher.js';
import { ProcessingListReaper } from './processing-list.reaper.js';
import type { QueueDelivery } from './queue-delivery.js';
import { QueueMessageProcessor } from './queue-message.processor.js';
import type { QueueProcessorDeps } from './queue-processor.deps.js';
import { QueueBatchProcessor } from './queue-batch.processor.js';
import { batchWindow } from '../core/options/batch.options.js';
import { recordBatchSetting } from '../runtime/batch-setting.js';
import { QueueReplySender } from './queue-reply.sender.js';
import { QueueSettler } from './queue.settler.js';
import { ReliableListFetcher } from './reliable-list.fetcher.js';
import { hasLimits, keyRateGate, limitSource, type ConsumerLimitsDeps } from '../runtime/limits/consumer-limits.js';

/**
 * One `@QueueHandler` at run time: its fetcher (reliable or fast) on a
 * blocking connection of its own, the loop, the settler, the delayed-set
 * promoter and, in reliable mode, the heartbeat/reaper.
 */
export class QueueConsumer implements BrokerConsumer {
  readonly description: string;
  private readonly loop: ConsumerLoop<QueueDelivery>;
  private readonly promoter: DelayedSetPromoter;
  private readonly reaper: ProcessingListReaper | undefined;
  /** A batch handler's: shutdown runs what is gathered without waiting for a full batch. */
  private readonly stopWaiting: (() => void) | undefined;
  /** Records the `batch` option (or its absence) for the status tools. */
  private readonly recordSetting: () => void;

  constructor(
    descriptor: QueueHandlerDescriptor,
    factory: RedisConnectionFactory,
    command: RedisClient,
    broker: ResolvedBrokerOptions,
    events: BrokerEvents,
  ) {
    const { options } = descriptor;
    const keys = new QueueKeys(descriptor.queue, broker.keyPrefix);
    const consumerId = broker.instanceId;
    const reliable = options.mode === 'reliable';
    const blocking = factory.create('blocking', descriptor.queue);
    const closeBlocking = (): Promise<void> => factory.close(blocking);
    this.reaper = reliable
      ? new ProcessingListReaper(keys, consumerId, command, {
          heartbeatIntervalMs: broker.heartbeatIntervalMs,
          consumerTtlMs: broker.consumerTtlMs,
          maxDeaths: options.maxDeaths,
          deadLetterMaxEntries: broker.deadLetterMaxEntries,
        }, (from, returned, quarantined) => {
          const { queue, target: handler } = descriptor;
          if (returned > 0) events.emit('reclaimed', { kind: 'queue', source: queue, handler, count: returned, from, context: undefined });
          for (let i = 0; i < quarantined; i += 1) {
            events.emit('deadLettered', { kind: 'queue', source: queue, handler, reason: 'poison', context: undefined, exception: undefined });
          }
        })
      : undefined;
    const reaper = this.reaper;
    const reliableFetcher = reaper
      ? new ReliableListFetcher(keys, consumerId, blocking, command, options.blockTimeoutMs, closeBlocking, reaper)
      : undefined;
    const source = reliableFetcher ?? new FastListFetcher(keys, blocking, command, options.blockTimeoutMs, !factory.isCluster, closeBlocking);
    this.description = source.description;
    // rateLimit / globalConcurrency: slots are taken before the fetch (docs/rate-limits.md).
    const limitDeps: ConsumerLimitsDeps = {
      command, keys: keys.limits(), limits: options, blockTimeoutMs: options.blockTimeoutMs,
      openBlocking: () => {
        const client = factory.create('blocking', `${descriptor.queue}/limits`);
        return { client, close: () => factory.close(client) };
      },
      limited: (limit, waitMs) => events.emit('limited', { kind: 'queue', source: descriptor.queue, handler: descriptor.target, limit, waitMs }),
    };
    const limited = hasLimits(options) ? limitSource(source, limitDeps) : undefined;
    this.promoter = new DelayedSetPromoter(keys, command, broker.delayedPollMs);
    const signals = new RunSignals(options.timeoutMs);
    const { batch } = options;
    // A batch handler: each loop slot is one message of a batch.
    const window = batch ? batchWindow(batch, options) : prefetchWindow(options);
    const deps: QueueProcessorDeps = {
      queue: descriptor.queue,
      consumerId,
      handler: descriptor.target,
      invoke: descriptor.invoke,
      options,
      settler: new QueueSettler(keys, consumerId, command, reliable, broker.deadLetterMaxEntries, reliableFetcher?.model),
      events,
      release: (delivery, outcome) => {
        if (!reliableFetcher) return;
        if (outcome === 'ack-failed') reliableFetcher.ackLater(delivery);
        else reliableFetcher.forget(delivery);
        if (outcome === 'unsettled') reliableFetcher.markForRecovery();
      },
      retryScheduled: (ms) => this.promoter.nudge(ms),
      maxAcking: window,
      signals,
      replies: new QueueReplySender(command, broker.keyPrefix, descriptor.queue, BROKER_DEFAULTS.replyTtlMs),
      keyGate: keyRateGate(limitDeps),
    };
    // Batches and limits are exclusive (refused at startup): limits count single starts.
    const batchProcessor = batch ? new QueueBatchProcessor(deps, batch) : undefined;
    const processor = batchProcessor ?? new QueueMessageProcessor(deps);
    this.stopWaiting = batchProcessor ? () => batchProcessor.stopWaiting() : undefined;
    const logger = new Logger(QueueConsumer.name);
    this.recordSetting = () => recordBatchSetting(command, keys.batch, batch, source.description, logger);
    // Messages read ahead of free slots start without a fetch round trip
    // (none for batches and limited handlers: their readAhead resolves to 0).
    // Fetches of half the window keep the next one under way while a batch is
    // dispatched; batch handlers fetch whole batches, limited handlers their free slots.
    const { held, readAhead, fetchMax } = fetchWindow(options);
    this.loop = new ConsumerLoop(limited ?? source, {
      window: batch ? window : held,
      fetchMax: batch || limited ? undefined : fetchMax,
      readAhead,
      concurrency: batch ? batch.size * options.concurrency : options.concurrency,
      blockTimeoutMs: options.blockTimeoutMs,
      process: limited ? (delivery) => limited.run(delivery, processor.process(delivery)) : (delivery) => processor.process(delivery),
      drain: () => processor.drain(),
      deadlinePassed: () => signals.abortAll(),
      // A message whose consumer already died while running it runs alone.
      isSolo: reliable ? (delivery) => delivery.deaths > 0 : undefined,
    });
  }

  async start(): Promise<void> {
    await this.loop.start();
    this.recordSetting();
    this.promoter.start();
    this.reaper?.start();
  }

  async stop(deadline: number): Promise<void> {
    // A promote or heartbeat stuck on a Redis that is down must not hold
    // shutdown past the deadline (plus the hand-back grace).
    const grace = deadline + BROKER_DEFAULTS.stopGraceMs;
    await settledBy(this.promoter.stop(), grace);
    this.stopWaiting?.();
    await this.loop.stop(deadline);
    // The heartbeat runs until the loop has handed back what it holds (the
    // fetcher stops it just before the release): a consumer still finishing
    // its messages must not look dead to the other processes. Stopped again
    // here for a release that never ran (Redis down).
    if (this.reaper) await settledBy(this.reaper.stop(), grace);
  }

  health(): ConsumerHealth {
    return this.loop.health();
  }
}
