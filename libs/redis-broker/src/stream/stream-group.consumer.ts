import { Logger } from '@nestjs/common';
import type { RedisClient, RedisConnectionFactory } from '../core/redis/redis-connection.factory.js';
import type { StreamHandlerDescriptor } from '../discovery/handler-descriptor.js';
import { StreamKeys } from '../core/keys.js';
import type { BrokerEvents } from '../core/events.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { ConsumerLoop } from '../runtime/consumer.loop.js';
import { fetchWindow } from '../runtime/fetch-window.js';
import { prefetchWindow } from '../core/options/handler-options.validation.js';
import type { BrokerConsumer, ConsumerHealth } from '../runtime/message-source.js';
import { settledBy } from '../runtime/deadline.js';
import { RunSignals } from '../runtime/run-signals.js';
import { IdleConsumerPruner } from './idle-consumer.pruner.js';
import { PendingIdleRefresher } from './pending-idle.refresher.js';
import { PendingReclaimer } from './pending.reclaimer.js';
import type { StreamEntry } from './stream-entry.js';
import { StreamGroupReader } from './stream-group.reader.js';
import { StreamMessageProcessor } from './stream-message.processor.js';
import type { StreamProcessorDeps } from './stream-processor.deps.js';
import { StreamBatchProcessor } from './stream-batch.processor.js';
import { batchWindow } from '../core/options/batch.options.js';
import { recordBatchSetting } from '../runtime/batch-setting.js';
import { StreamSettler } from './stream.settler.js';
import { hasLimits, limitSource } from '../runtime/limits/consumer-limits.js';

/**
 * One `@StreamConsumer` at run time: a group reader on a blocking connection
 * of its own, the pending reclaimer, the loop and the settler. Stopping
 * stops reading, lets running handlers finish until the deadline and acks
 * what finished; the rest stays pending in the group and is reclaimed.
 */
export class StreamGroupConsumer implements BrokerConsumer {
  readonly description: string;
  private readonly loop: ConsumerLoop<StreamEntry>;
  private readonly settler: StreamSettler;
  private readonly refresher: PendingIdleRefresher;
  /** A batch consumer's: shutdown runs what is gathered without waiting for a full batch. */
  private readonly stopWaiting: (() => void) | undefined;
  /** Records the `batch` option (or its absence) for the status tools. */
  private readonly recordSetting: () => void;

  constructor(
    descriptor: StreamHandlerDescriptor,
    factory: RedisConnectionFactory,
    command: RedisClient,
    broker: ResolvedBrokerOptions,
    events: BrokerEvents,
  ) {
    const { options, group } = descriptor;
    const keys = new StreamKeys(descriptor.stream, broker.keyPrefix);
    const consumer = descriptor.consumer ?? broker.instanceId;
    const readKeys = [keys.stream, keys.requeue(group)];
    const blocking = factory.create('blocking', `${descriptor.stream}/${group}`);
    // The reclaimer asks the reader what this process holds; the closure
    // runs only once fetching has started, when both exist.
    const reclaimer: PendingReclaimer = new PendingReclaimer(readKeys, group, consumer, command, {
      claimIdleMs: options.claimIdleMs,
      reclaimIntervalMs: options.reclaimIntervalMs,
      backoff: options.backoff,
      batch: BROKER_DEFAULTS.streamReclaimBatch,
    }, (key, id): boolean => reader.isHeld(key, id));
    const reader: StreamGroupReader = new StreamGroupReader(
      { name: descriptor.stream, keys: readKeys, group, consumer, startId: options.startId, blockTimeoutMs: options.blockTimeoutMs },
      blocking, command, reclaimer,
      new IdleConsumerPruner(readKeys, group, consumer, command, options.idleConsumerTtlMs, options.reclaimIntervalMs),
      () => factory.close(blocking),
    );
    this.description = reader.description;
    const refreshMs = Math.max(1, Math.floor(options.claimIdleMs / BROKER_DEFAULTS.streamIdleRefreshesPerClaimIdle));
    this.refresher = new PendingIdleRefresher(reader.description, group, consumer, command, refreshMs, () => reader.heldIds());
    const signals = new RunSignals(options.timeoutMs);
    this.settler = new StreamSettler(keys, group, consumer, command, broker.deadLetterMaxEntries);
    const deps: StreamProcessorDeps = {
      stream: descriptor.stream,
      group,
      consumer,
      handler: descriptor.target,
      invoke: descriptor.invoke,
      options,
      settler: this.settler,
      events,
      release: (entry) => reader.forget(entry),
      retryScheduled: (entry, delayMs) => reclaimer.scheduleRetry(entry, delayMs),
      maxAcking: prefetchWindow(options),
      signals,
    };
    const { batch } = options;
    // A batch consumer: each loop slot is one entry of a batch. Batches and
    // limits are exclusive (refused at startup): limits count single starts.
    const window = batch ? batchWindow(batch, options) : prefetchWindow(options);
    const batchProcessor = batch ? new StreamBatchProcessor(deps, batch, window) : undefined;
    const processor = batchProcessor ?? new StreamMessageProcessor(deps);
    this.stopWaiting = batchProcessor ? () => batchProcessor.stopWaiting() : undefined;
    const logger = new Logger(StreamGroupConsumer.name);
    this.recordSetting = () => recordBatchSetting(command, keys.batch(group), batch, reader.description, logger);
    // rateLimit / globalConcurrency: slots are taken before the read (docs/rate-limits.md).
    const limited = hasLimits(options)
      ? limitSource(reader, {
          command, keys: keys.limits(group), limits: options, blockTimeoutMs: options.blockTimeoutMs,
          openBlocking: () => {
            const client = factory.create('blocking', `${descriptor.stream}/${group}/limits`);
            return { client, close: () => factory.close(client) };
          },
          limited: (limit, waitMs) => events.emit('limited', { kind: 'stream', source: descriptor.stream, handler: descriptor.target, limit, waitMs }),
        })
      : undefined;
    // Messages read ahead of free slots start without a fetch round trip
    // (none for batches and limited handlers: their readAhead resolves to 0).
    // Fetches of half the window keep the next one under way while a batch is
    // dispatched; batch handlers fetch whole batches, limited handlers their free slots.
    const { held, readAhead, fetchMax } = fetchWindow(options);
    this.loop = new ConsumerLoop(limited ?? reader, {
      window: batch ? window : held,
      fetchMax: batch || limited ? undefined : fetchMax,
      readAhead,
      concurrency: batch ? batch.size * options.concurrency : options.concurrency,
      blockTimeoutMs: options.blockTimeoutMs,
      process: limited ? (entry) => limited.run(entry, processor.process(entry)) : (entry) => processor.process(entry),
      drain: () => processor.drain(),
      // An entry whose consumer died may be what killed it: it runs alone, so
      // a poison entry takes no running neighbour down with the next process.
      isSolo: (entry) => entry.takenOver === true,
      deadlinePassed: () => signals.abortAll(),
    });
  }

  async start(): Promise<void> {
    await this.loop.start();
    this.recordSetting();
    this.refresher.start();
  }

  async stop(deadline: number): Promise<void> {
    // The loop waits for the running entries until the deadline, then for
    // acks on their way (re-sent while Redis is away) within the stop grace;
    // the entries still held keep their idle time fresh until then.
    this.stopWaiting?.();
    await this.loop.stop(deadline);
    // A refresh stuck on a Redis that is down must not hold shutdown past its grace.
    await settledBy(this.refresher.stop(), deadline + BROKER_DEFAULTS.stopGraceMs);
    this.settler.close();
  }

  health(): ConsumerHealth {
    return this.loop.health();
  }
}
