import { EventEmitter } from 'node:events';

/**
 * What kind of source a message came from.
 * @publicApi
 */
export type SourceKind = 'queue' | 'stream' | 'channel';

/**
 * Emitted once per message a handler finished without error.
 * @publicApi
 */
export interface HandledEvent {
  kind: SourceKind;
  /** Queue, `stream/group` or channel name. */
  source: string;
  /** `Class@method` of the handler. */
  handler: string;
  durationMs: number;
  /**
   * The handler's context object: a `QueueMessageContext`, `StreamMessageContext`
   * or `ChannelMessageContext` by `kind` (typed so in `@OnBrokerEvent` hooks).
   */
  context: unknown;
  /**
   * How long the message waited before its handler started (ms): since
   * `enqueue` (retries and `delayMs` included; the producer's clock) or since
   * the stream entry's id time. Undefined when unknown (a plain JSON message,
   * a channel message).
   */
  waitMs?: number;
}

/**
 * Emitted once per failed handler run (before the retry or dead-letter decision).
 * @publicApi
 */
export interface FailedEvent extends HandledEvent {
  /** The error's text, as logged and dead-lettered. */
  error: string;
  /** What the handler threw (or rejected with), as thrown. */
  exception: unknown;
}

/**
 * Emitted when a failed message is scheduled for another attempt.
 * @publicApi
 */
export interface RetriedEvent {
  kind: SourceKind;
  source: string;
  handler: string;
  attempt: number;
  delayMs: number;
  /** The failed run's context (see {@link HandledEvent.context}). */
  context: unknown;
  /** What the failed run threw, as thrown. */
  exception: unknown;
}

/**
 * Emitted when a message is moved to a dead-letter place.
 * @publicApi
 */
export interface DeadLetteredEvent {
  kind: SourceKind;
  source: string;
  handler: string;
  reason: string;
  /** The last run's context; undefined when no handler saw the message (too large, not UTF-8, not JSON, too many deliveries). */
  context: unknown;
  /** What the last run threw, as thrown; undefined when no handler run failed (see `context`). */
  exception: unknown;
}

/**
 * Emitted when messages a consumer presumed dead held are taken over: a
 * reliable queue's reaper returned that consumer's processing list to the
 * queue (`count` messages, `context` undefined: they wait in the queue
 * again), or a stream entry pending on a consumer idle past `claimIdleMs`
 * is about to run here (`count` 1, `context` the run's context).
 * @publicApi
 */
export interface ReclaimedEvent {
  kind: 'queue' | 'stream';
  source: string;
  /** `Class@method` of the handler in the process that took them over. */
  handler: string;
  count: number;
  /** The consumer presumed dead (queues); undefined for streams, where Redis does not name the previous owner. */
  from: string | undefined;
  /** The taken-over entry's context (streams); undefined for queues. */
  context: unknown;
}

/**
 * Emitted when a connection is ready again after it was lost.
 * @publicApi
 */
export interface ReconnectedEvent {
  role: string;
}

/**
 * Emitted when messages are dropped on purpose (e.g. a full pub/sub buffer).
 * @publicApi
 */
export interface DroppedEvent {
  kind: SourceKind;
  source: string;
  count: number;
}

/**
 * Emitted each time a consumer waits on a cross-process limit instead of
 * running (`rateLimit`, `globalConcurrency`), or defers a message over its
 * key's `rateLimit` (`rateKey`).
 * @publicApi
 */
export interface LimitedEvent {
  kind: 'queue' | 'stream';
  source: string;
  /** `Class@method`. */
  handler: string;
  limit: 'rate' | 'globalConcurrency' | 'rateKey';
  /** How long the wait (or the deferral) is, in ms. */
  waitMs: number;
}

/** Every broker event and its argument. */
export interface BrokerEventMap {
  handled: [HandledEvent];
  failed: [FailedEvent];
  retried: [RetriedEvent];
  deadLettered: [DeadLetteredEvent];
  reclaimed: [ReclaimedEvent];
  reconnected: [ReconnectedEvent];
  dropped: [DroppedEvent];
  limited: [LimitedEvent];
}

/**
 * The broker's in-process event bus: every handled, failed, retried,
 * dead-lettered and reclaimed message, every drop and every reconnect.
 * Metrics, `@OnBrokerEvent` hooks and tests listen here; listeners must be
 * synchronous and cheap (they run on the hot path).
 * @publicApi
 */
export class BrokerEvents extends EventEmitter<BrokerEventMap> {}
