import type {
  DeadLetteredEvent,
  DroppedEvent,
  FailedEvent,
  HandledEvent,
  ReclaimedEvent,
  RetriedEvent,
  SourceKind,
} from '../core/events.js';
import type { BrokerEventName } from '../discovery/decorators/on-broker-event.decorator.js';
import type { ChannelMessageContext } from '../pubsub/channel-message.context.js';
import type { QueueMessageContext } from '../queue/queue-delivery.js';
import type { StreamMessageContext } from '../stream/stream-entry.js';

/**
 * The handler context of each source kind.
 * @publicApi
 */
export interface BrokerContextByKind {
  queue: QueueMessageContext;
  stream: StreamMessageContext;
  channel: ChannelMessageContext;
}

/** `E` once per kind in `K`, its `context` typed for that kind (or `Missing` when it may be absent). */
type PerKind<E extends { kind: SourceKind; context: unknown }, K extends SourceKind, Missing = never> = K extends SourceKind
  ? Omit<E, 'kind' | 'context'> & { kind: K; context: BrokerContextByKind[K] | Missing }
  : never;

/**
 * What each `@OnBrokerEvent` hook receives: the `BrokerEvents` payload, its
 * `context` typed by `kind` (narrow with `event.kind === 'queue'`...).
 * @publicApi
 */
export interface BrokerHookEventMap {
  /** A handler run finished without error. */
  handled: PerKind<HandledEvent, SourceKind>;
  /** A handler run threw or rejected: `error` is its text, `exception` the thrown value. */
  failed: PerKind<FailedEvent, SourceKind>;
  /** A failed message runs again after `delayMs`; `attempt` is the attempt that failed. */
  retrying: PerKind<RetriedEvent, 'queue' | 'stream'>;
  /** A message went to its dead-letter place; `context` and `exception` are undefined when no handler saw it. */
  'dead-lettered': PerKind<DeadLetteredEvent, 'queue' | 'stream', undefined>;
  /**
   * Messages of a consumer presumed dead were taken over: a queue's whole
   * processing list went back to the queue (`count`, `from`, no context), or
   * one stream entry is about to run here (`count` 1, with its context).
   */
  reclaimed: (Omit<ReclaimedEvent, 'kind' | 'context'> & { kind: 'queue'; context: undefined }) | PerKind<ReclaimedEvent, 'stream'>;
  /** Channel messages a full buffer dropped, `count` at once (no context: they never ran). */
  dropped: DroppedEvent & { kind: 'channel' };
}

/**
 * The argument of an `@OnBrokerEvent(event)` hook.
 *
 * @example
 * ```ts
 * @OnBrokerEvent('failed', { stream: 'orders' })
 * onFailed(event: BrokerHookEvent<'failed'>) {
 *   if (event.kind === 'stream') this.audit.failed(event.context.id, event.exception);
 * }
 * ```
 * @publicApi
 */
export type BrokerHookEvent<E extends BrokerEventName = BrokerEventName> = BrokerHookEventMap[E];
