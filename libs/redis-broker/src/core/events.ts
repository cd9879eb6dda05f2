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
  error: string;
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

/** Every broker event and its argument. */
export interface BrokerEventMap {
  handled: [HandledEvent];
  failed: [FailedEvent];
  retried: [RetriedEvent];
  deadLettered: [DeadLetteredEvent];
  reconnected: [ReconnectedEvent];
  dropped: [DroppedEvent];
}

/**
 * The broker's in-process event bus: every handled, failed, retried and
 * dead-lettered message and every reconnect. Metrics and tests listen here;
 * listeners must be synchronous and cheap (they run on the hot path).
 * @publicApi
 */
export class BrokerEvents extends EventEmitter<BrokerEventMap> {}
