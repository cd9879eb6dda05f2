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
import { QueueReplySender } from './queue-reply.sender.js';
import { QueueSettler } from './queue.settler.js';
import { ReliableListFetcher } from './reliable-list.fetcher.js';

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
    this.promoter = new DelayedSetPromoter(keys, command, broker.delayedPollMs);
    const signals = new RunSignals(options.timeoutMs);
    const processor = new QueueMessageProcessor({
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
      maxAcking: prefetchWindow(options),
      signals,
      replies: new QueueReplySender(command, broker.keyPrefix, descriptor.queue, BROKER_DEFAULTS.replyTtlMs),
    });
    // Messages read ahead of free slots start without a fetch round trip.
    const { held, readAhead } = fetchWindow(options);
    this.loop = new ConsumerLoop(source, {
      window: held,
      readAhead,
      concurrency: options.concurrency,
      blockTimeoutMs: options.blockTimeoutMs,
      process: (delivery) => processor.process(delivery),
      drain: () => processor.drain(),
      deadlinePassed: () => signals.abortAll(),
      // A message whose consumer already died while running it runs alone.
      isSolo: reliable ? (delivery) => delivery.deaths > 0 : undefined,
    });
  }

  async start(): Promise<void> {
    await this.loop.start();
    this.promoter.start();
    this.reaper?.start();
  }

  async stop(deadline: number): Promise<void> {
    // A promote or heartbeat stuck on a Redis that is down must not hold
    // shutdown past the deadline (plus the hand-back grace).
    const grace = deadline + BROKER_DEFAULTS.stopGraceMs;
    await settledBy(this.promoter.stop(), grace);
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
