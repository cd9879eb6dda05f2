import { BadRequestException, Logger } from '@nestjs/common';
import { isUtf8 } from 'node:buffer';
import type { HandlerInvoker } from '../discovery/handler-descriptor.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { messages } from '../messages.js';
import type { BrokerEvents } from '../observability/broker-events.js';
import type { ResolvedQueueHandlerOptions } from '../redis-broker.options.js';
import { errorText } from '../runtime/consumer.loop.js';
import { backoffDelay } from '../runtime/backoff.js';
import { QueueMessageContext, type QueueDelivery } from './queue-delivery.js';
import type { DeadLetterReason, QueueSettler } from './queue.settler.js';

/** How a delivery left the processor. */
export type QueueOutcome = 'settled' | 'unsettled' | 'ack-failed';

/** What the processor needs from the rest of one queue consumer. */
export interface QueueProcessorDeps {
  queue: string;
  consumerId: string;
  handler: string;
  invoke: HandlerInvoker;
  options: ResolvedQueueHandlerOptions;
  settler: QueueSettler;
  events: BrokerEvents;
  /**
   * Called once a delivery is settled, or could not be: `unsettled` when
   * nothing is known of it (it runs again), `ack-failed` when its handler
   * succeeded but the ack did not return (the ack is re-sent instead).
   */
  release: (delivery: QueueDelivery, outcome: QueueOutcome) => void;
  /** Most acks outstanding with their slots freed (the loop's window). */
  maxAcking: number;
  /** Called when a retry is scheduled `ms` from now. */
  retryScheduled: (ms: number) => void;
}

/**
 * Runs one queue delivery from bytes to settlement: size and encoding checks,
 * parse, the handler through Nest's pipeline, then ack, retry with backoff, or
 * dead-letter with the reason. Never throws: a settle failure is logged and
 * the message stays where Redis has it (recovered later).
 */
export class QueueMessageProcessor {
  private readonly logger = new Logger(QueueMessageProcessor.name);

  /** Acks sent and not returned yet: their handlers' slots are already free. */
  private readonly acking = new Set<Promise<void>>();

  constructor(private readonly deps: QueueProcessorDeps) {}

  /**
   * Resolves once the handler finished and its settlement is under way. A
   * successful delivery frees its slot as soon as its ack is sent, so the
   * next fetch overlaps the ack's round trip; at most `maxAcking` acks are
   * outstanding, after which a delivery waits for its own. `drain` waits
   * for them all.
   */
  async process(delivery: QueueDelivery): Promise<void> {
    const { deps } = this;
    let outcome: QueueOutcome = 'settled';
    let handedOff = false;
    try {
      const { body } = delivery;
      const attempt = delivery.attempts + 1;
      if (body.length > deps.options.maxMessageBytes) {
        await this.deadLetter(delivery, 'too-large', `message is ${body.length} bytes; maxMessageBytes is ${deps.options.maxMessageBytes}`, attempt);
        return;
      }
      if (!isUtf8(body)) {
        await this.deadLetter(delivery, 'invalid-utf8', 'message is not valid UTF-8 text', attempt);
        return;
      }
      const raw = body.toString('utf8');
      let payload: unknown = raw;
      if (deps.options.parse === 'json') {
        try {
          payload = JSON.parse(raw);
        } catch (error) {
          await this.deadLetter(delivery, 'unparsable', `not JSON: ${errorText(error)}`, attempt);
          return;
        }
      }
      const context = new QueueMessageContext(delivery, deps.queue, attempt, raw, deps.consumerId, Date.now());
      // A message that already killed a consumer runs alone (the loop sees to
      // that) and also after every ack in flight has landed: if it kills this
      // process too, nothing handled beside it runs again.
      if (delivery.deaths > 0) await this.drain();
      // Most deliveries count as running from the fetch on: skip a microtask turn for them.
      if (!delivery.marked) await deps.settler.markStarted(delivery);
      const started = performance.now();
      try {
        await deps.invoke(payload, context);
      } catch (error) {
        const durationMs = performance.now() - started;
        const text = errorText(error);
        deps.events.emit('failed', { kind: 'queue', source: deps.queue, handler: deps.handler, durationMs, error: text });
        await this.onFailure(delivery, error, text, attempt);
        return;
      }
      if (deps.events.listenerCount('handled') > 0) {
        deps.events.emit('handled', { kind: 'queue', source: deps.queue, handler: deps.handler, durationMs: performance.now() - started });
      }
      handedOff = true;
      const acked = this.ackThenRelease(delivery);
      if (this.acking.size >= deps.maxAcking) {
        await acked;
        return;
      }
      this.acking.add(acked);
      void acked.then(() => this.acking.delete(acked));
    } catch (error) {
      outcome = 'unsettled';
      this.logger.error(messages.settleError(`queue "${deps.queue}"`, delivery.sha, errorText(error)));
    } finally {
      if (!handedOff) deps.release(delivery, outcome);
    }
  }

  /** Resolves once every ack sent so far has returned (shutdown waits for it before handing messages back). */
  async drain(): Promise<void> {
    while (this.acking.size > 0) await Promise.all(this.acking);
  }

  /** Never rejects: a failed ack is reported as such, and its ack re-sent later. */
  private async ackThenRelease(delivery: QueueDelivery): Promise<void> {
    let outcome: QueueOutcome = 'settled';
    try {
      await this.deps.settler.ack(delivery);
    } catch (error) {
      outcome = 'ack-failed';
      this.logger.warn(messages.ackFailed(`queue "${this.deps.queue}"`, delivery.sha, errorText(error)));
    }
    this.deps.release(delivery, outcome);
  }

  private async onFailure(delivery: QueueDelivery, error: unknown, text: string, attempt: number): Promise<void> {
    const { deps } = this;
    this.logger.warn(messages.handlerFailed(deps.handler, `queue "${deps.queue}"`, delivery.sha, attempt, text));
    if (error instanceof NonRetryableError) return this.deadLetter(delivery, 'non-retryable', text, attempt);
    if (error instanceof BadRequestException) return this.deadLetter(delivery, 'validation', validationText(error), attempt);
    if (attempt >= deps.options.maxAttempts) return this.deadLetter(delivery, 'max-attempts', text, attempt);
    const delayMs = backoffDelay(deps.options.backoff, attempt);
    await deps.settler.retry(delivery, delayMs);
    deps.retryScheduled(delayMs);
    deps.events.emit('retried', { kind: 'queue', source: deps.queue, handler: deps.handler, attempt, delayMs });
  }

  private async deadLetter(delivery: QueueDelivery, reason: DeadLetterReason, error: string, attempts: number): Promise<void> {
    const { deps } = this;
    await deps.settler.deadLetter(delivery, { reason, error, attempts, handler: deps.handler });
    this.logger.warn(messages.deadLettered(`queue "${deps.queue}"`, delivery.sha, reason, error));
    deps.events.emit('deadLettered', { kind: 'queue', source: deps.queue, handler: deps.handler, reason });
  }
}

/** ValidationPipe puts the list of violations in the response body; keep them. */
export function validationText(error: BadRequestException): string {
  const response = error.getResponse();
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const message = (response).message;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return error.message;
}
