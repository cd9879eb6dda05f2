import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { QueueKeys } from '../keys.js';
import type { QueueDelivery } from './queue-delivery.js';

/** Why a message went to the dead-letter list. */
export type DeadLetterReason =
  | 'max-attempts'
  | 'non-retryable'
  | 'validation'
  | 'unparsable'
  | 'invalid-utf8'
  | 'too-large'
  | 'poison';

/**
 * A dead-lettered list message: the JSON record stored beside it.
 * @publicApi
 */
export interface QueueDeadLetterRecord {
  /** Dead-letter id, for `requeue`. */
  id: string;
  queue: string;
  reason: DeadLetterReason;
  /** The last error's message. */
  error: string;
  /** Deliveries made, the last one included. */
  attempts: number;
  /** Consumer that gave up on it. */
  consumer: string;
  /** `Class@method` of the handler, when one ran. */
  handler?: string;
  /** When it died (epoch ms). */
  failedAt: number;
}

/**
 * Settles queue deliveries in Redis, one atomic script each: ack, retry
 * (into the delayed set) or dead-letter. In fast mode there is no processing
 * list; the same scripts then only touch the retry state.
 */
export class QueueSettler {
  private readonly processing: string;
  private readonly active: string;

  constructor(
    private readonly keys: QueueKeys,
    private readonly consumerId: string,
    private readonly command: RedisClient,
    private readonly reliable: boolean,
    private readonly deadLetterMaxEntries: number,
  ) {
    // Fast mode has no processing list: a name that never exists keeps the
    // scripts' LREM a no-op while every key stays in the queue's slot.
    this.processing = keys.processing(reliable ? consumerId : `${consumerId}:fast`);
    this.active = keys.active(consumerId);
  }

  /**
   * Records that a handler is about to run this delivery, so a crash from
   * here on blames it (and not messages merely prefetched beside it). Awaited
   * before the handler starts: a handler that kills the process at once must
   * still be counted, or a poison message would crash consumers forever.
   */
  async markActive(delivery: QueueDelivery): Promise<void> {
    if (!this.reliable) return;
    await this.command.hset(this.active, delivery.sha, Date.now());
  }

  async ack(delivery: QueueDelivery): Promise<void> {
    const hasState = delivery.attempts > 0 || delivery.deaths > 0;
    if (!this.reliable && !hasState) return;
    const { attempts, deaths } = this.keys;
    await this.command.nrbAck(this.processing, this.active, attempts, deaths, delivery.body, delivery.sha, hasState ? '1' : '0');
  }

  async retry(delivery: QueueDelivery, delayMs: number): Promise<void> {
    await this.command.nrbRetry(
      this.processing, this.active, this.keys.attempts, this.keys.delayed,
      delivery.body, delivery.sha, Math.max(0, Math.round(delayMs)), randomBytes(8).toString('hex'),
    );
  }

  async deadLetter(delivery: QueueDelivery, record: Omit<QueueDeadLetterRecord, 'id' | 'queue' | 'consumer' | 'failedAt'>): Promise<string> {
    const id = randomBytes(10).toString('hex');
    const full: QueueDeadLetterRecord = { id, queue: this.keys.queue, consumer: this.consumerId, failedAt: Date.now(), ...record };
    const { attempts, deaths, deadIndex, deadRecords, deadMessages } = this.keys;
    await this.command.nrbDeadLetter(
      this.processing, this.active, attempts, deaths, deadIndex, deadRecords, deadMessages,
      delivery.body, delivery.sha, id, JSON.stringify(full), this.deadLetterMaxEntries,
    );
    return id;
  }
}
