import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { QueueKeys } from '../core/keys.js';
import { messages } from '../core/messages.js';
import { TickBatcher } from '../runtime/tick-batcher.js';
import type { ProcessingListModel } from './processing-list.model.js';
import { ackArguments, type QueueDelivery } from './queue-delivery.js';

/**
 * Why a message went to the dead-letter list.
 * @publicApi
 */
export type DeadLetterReason =
  | 'max-attempts'
  | 'non-retryable'
  | 'validation'
  | 'unparsable'
  | 'invalid-utf8'
  | 'too-large'
  | 'poison'
  | 'timeout'
  | 'unsupported-envelope';

/**
 * A dead-lettered list message: the JSON record stored beside it.
 * @publicApi
 */
export interface QueueDeadLetterRecord {
  /** Dead-letter id, for `requeue`. */
  id: string;
  /**
   * The message's id (`QueueMessageContext.id`), also on poison messages
   * quarantined by the reaper; absent on records written before it was kept.
   */
  messageId?: string;
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
 * Settles queue deliveries in Redis: ack, retry (into the delayed set) or
 * dead-letter, each an atomic script. Starts are batched per turn of the
 * event loop (one `HDEL` for many messages) and acks settle a batch per call
 * (the processor gathers them), since they are the per-message cost of a
 * healthy queue; each caller still waits for its own batch. In reliable mode
 * the fetcher's model of the processing list plans each change to it (acks
 * of the oldest copies cut by count); every command that changes the list
 * waits for a rebuild of the model under way. In fast mode there is no
 * processing list; the same scripts then only touch the retry state.
 */
export class QueueSettler {
  private readonly processing: string;
  private readonly waiting: string;
  private readonly alive: string;
  /** A processing list that never exists: for fast mode, and for a delivery whose copy is known gone. */
  private readonly noList: string;
  private readonly starts: TickBatcher<string>;

  constructor(
    private readonly keys: QueueKeys,
    private readonly consumerId: string,
    private readonly command: RedisClient,
    private readonly reliable: boolean,
    private readonly deadLetterMaxEntries: number,
    /** Reliable mode: this consumer's model of its processing list (acks cut by count while it is exact). */
    private readonly model?: ProcessingListModel,
  ) {
    // Fast mode has no processing list: names that never exist keep the
    // scripts' LREM a no-op while every key stays in the queue's slot.
    this.noList = keys.processing(`${consumerId}:fast`);
    this.processing = reliable ? keys.processing(consumerId) : this.noList;
    this.alive = keys.alive(reliable ? consumerId : `${consumerId}:fast`);
    this.waiting = keys.waiting(consumerId);
    // The starts of one fetched batch happen in one synchronous run: a
    // microtask joins them without delaying any handler by a loop turn.
    this.starts = new TickBatcher((shas) => this.sendStarts(shas), queueMicrotask);
  }

  /**
   * Records that a delivery the fetch left waiting is about to run (removes
   * it from the waiting hash), so a crash from here on blames it. Awaited
   * before the handler starts: a handler that kills the process at once must
   * still be counted, or a poison message would crash consumers forever.
   */
  async markStarted(delivery: QueueDelivery): Promise<void> {
    if (!this.reliable || delivery.marked) return;
    await this.starts.add(delivery.sha);
  }

  /** Whether a handled delivery needs an ack call: always in reliable mode; in fast mode only to clear retry state. */
  needsAck(delivery: QueueDelivery): boolean {
    return this.reliable || hasState(delivery);
  }

  /**
   * Acks handled deliveries with one script call (the processor batches them
   * per turn of the event loop). While the model of the processing list is
   * exact, the oldest acked copies are cut by count and only the others go by
   * body. Rejects when the script refused the cut (the consumer was reaped
   * meanwhile): the caller then treats the ack as failed.
   */
  async ack(deliveries: readonly QueueDelivery[]): Promise<void> {
    const { attempts, deaths } = this.keys;
    while (this.model?.rebuild) await this.model.rebuild;
    for (const d of deliveries) d.leaving = true;
    const plan = this.model?.planAck(deliveries) ?? { trim: 0, byBody: deliveries, bySha: [] };
    // Copies not sent by body: their retry state (rare) is cleared by sha.
    let shas = '';
    for (const d of plan.bySha) if (hasState(d)) shas += shas === '' ? d.sha : `,${d.sha}`;
    const removed = await this.changingList(() =>
      this.command.nrbAck(this.processing, attempts, deaths, this.alive, plan.trim, shas, ...ackArguments(plan.byBody, hasState)),
    );
    if (removed < 0) {
      this.model?.invalidate();
      throw new Error(messages.ackRefused(this.keys.queue, this.consumerId));
    }
  }

  private async sendStarts(shas: string[]): Promise<void> {
    await this.command.hdel(this.waiting, ...shas);
  }

  async retry(delivery: QueueDelivery, delayMs: number): Promise<void> {
    while (this.model?.rebuild) await this.model.rebuild;
    await this.changingList(() => this.command.nrbRetry(
      this.listOf(delivery), this.keys.attempts, this.keys.delayed,
      delivery.body, delivery.sha, Math.max(0, Math.round(delayMs)), randomBytes(8).toString('hex'),
    ));
  }

  /** Puts an unrun delivery back into the delayed set for `delayMs`, no attempt counted (over its key's rate limit). */
  async defer(delivery: QueueDelivery, delayMs: number): Promise<void> {
    while (this.model?.rebuild) await this.model.rebuild;
    await this.changingList(() => this.command.nrbDefer(
      this.listOf(delivery), this.waiting, this.keys.delayed,
      delivery.body, delivery.sha, Math.max(0, Math.round(delayMs)), randomBytes(8).toString('hex'),
    ));
  }

  async deadLetter(delivery: QueueDelivery, record: Omit<QueueDeadLetterRecord, 'id' | 'queue' | 'consumer' | 'failedAt'>): Promise<string> {
    const id = randomBytes(10).toString('hex');
    const full: QueueDeadLetterRecord = { id, messageId: delivery.id, queue: this.keys.queue, consumer: this.consumerId, failedAt: Date.now(), ...record };
    const { attempts, deaths, deadIndex, deadRecords, deadMessages } = this.keys;
    while (this.model?.rebuild) await this.model.rebuild;
    await this.changingList(() => this.command.nrbDeadLetter(
      this.listOf(delivery), this.waiting, attempts, deaths, deadIndex, deadRecords, deadMessages,
      delivery.body, delivery.sha, id, JSON.stringify(full), this.deadLetterMaxEntries,
    ));
    return id;
  }

  /**
   * The list a retry or dead letter removes the delivery's copy from (the
   * model is told now: call it in the run that sends): none when the model
   * knows the delivery has no copy.
   */
  private listOf(delivery: QueueDelivery): string {
    const { model } = this;
    if (!model) return this.processing;
    delivery.leaving = true;
    return model.removeByBody(delivery) ? this.processing : this.noList;
  }

  /** A command that changes the processing list: if its outcome is unknown, so is the model. */
  private async changingList<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      this.model?.invalidate();
      throw error;
    }
  }
}

function hasState(delivery: QueueDelivery): boolean {
  return delivery.attempts > 0 || delivery.deaths > 0;
}
