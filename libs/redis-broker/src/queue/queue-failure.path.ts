import type { Logger } from '@nestjs/common';
import { waitMs } from '../core/envelope.js';
import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';
import { backoffDelay } from '../runtime/backoff.js';
import { deadLetterVerdict } from '../runtime/failure-verdict.js';
import type { FailureTracing } from '../runtime/tracing/process-tracing.js';
import type { QueueDelivery, QueueMessageContext } from './queue-delivery.js';
import type { QueueProcessorDeps } from './queue-processor.deps.js';
import { encodeFailureReply } from './queue-reply.wire.js';
import type { DeadLetterReason } from './queue.settler.js';

/**
 * What happens to a queue delivery that failed, the same for one-message and
 * batch handlers: past shutdown's deadline it is left for the hand-back;
 * otherwise the `failed` event, then a retry with backoff or a dead letter
 * with the reason (a request's requester gets the failure first). Each step
 * ends in `release`: settled, or unsettled when Redis did not take it (in
 * reliable mode its copy then runs again). Logs go to the processor's logger.
 */
export class QueueFailurePath {
  constructor(
    private readonly deps: QueueProcessorDeps,
    private readonly tracing: FailureTracing,
    private readonly logger: Logger,
  ) {}

  /** A run of `context`'s message threw (or its batch reported it failed) after `durationMs`. */
  async failed(delivery: QueueDelivery, context: QueueMessageContext, error: unknown, durationMs: number, timedOut: boolean): Promise<void> {
    const { deps } = this;
    if (deps.signals.deadlinePassed && deps.options.mode === 'reliable') {
      // Stopped by shutdown, not by its own fault: its copy stays in the
      // processing list, which the stop hands back (no attempt counted).
      this.tracing.failed(context, error, { handedBack: true });
      deps.release(delivery, 'handed-back');
      return;
    }
    const text = errorText(error);
    deps.events.emit('failed', {
      kind: 'queue', source: deps.queue, handler: deps.handler, durationMs, waitMs: waitMs(context.enqueuedAt, durationMs), error: text, exception: error, context,
    });
    await this.settleWith(delivery, () => this.retryOrDeadLetter(delivery, context, error, text, timedOut));
  }

  /** Dead-letters a delivery its handler never saw (too large, not UTF-8, not JSON, a request a batch refuses). */
  deadLetterUnrun(delivery: QueueDelivery, reason: DeadLetterReason, error: string, attempt: number): Promise<void> {
    return this.settleWith(delivery, () => this.deadLetter(delivery, reason, error, attempt));
  }

  /** Runs a retry, defer or dead-letter step, then releases the delivery as settled, or as unsettled when the step failed. */
  async settleWith(delivery: QueueDelivery, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (settleError) {
      this.unsettled(delivery, settleError);
      return;
    }
    this.deps.release(delivery, 'settled');
  }

  /**
   * Nothing is known of its settlement (the step may have run, or run in
   * part: Redis does not roll a script back). In reliable mode a copy still
   * in the processing list is found by the next recovery and runs again.
   */
  unsettled(delivery: QueueDelivery, error: unknown): void {
    const text = this.deps.options.mode === 'reliable' ? messages.settleError : messages.fastSettleError;
    this.logger.error(text(`queue "${this.deps.queue}"`, delivery.id, errorText(error)));
    this.deps.release(delivery, 'unsettled');
  }

  private async retryOrDeadLetter(delivery: QueueDelivery, context: QueueMessageContext, error: unknown, text: string, timedOut: boolean): Promise<void> {
    const { deps } = this;
    const { attempt } = context;
    this.logger.warn(messages.handlerFailed(deps.handler, `queue "${deps.queue}"`, delivery.id, attempt, text));
    const verdict = deadLetterVerdict(error, text, attempt, deps.options.maxAttempts, timedOut, 'max-attempts');
    if (verdict) return this.deadLetter(delivery, verdict.reason, verdict.error, attempt, { context, exception: error });
    const delayMs = backoffDelay(deps.options.backoff, attempt);
    this.tracing.failed(context, error, { retryDelayMs: delayMs });
    await deps.settler.retry(delivery, delayMs);
    deps.retryScheduled(delayMs);
    deps.events.emit('retried', { kind: 'queue', source: deps.queue, handler: deps.handler, attempt, delayMs, context, exception: error });
  }

  /** `run`: the failed run's context and what it threw; absent when no handler saw the message. */
  private async deadLetter(
    delivery: QueueDelivery,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
    run?: { context: QueueMessageContext; exception: unknown },
  ): Promise<void> {
    const { deps } = this;
    if (run) this.tracing.failed(run.context, run.exception, { deadLetter: reason });
    // A request's requester learns the failure first (before the settle, as a success reply is), not at its timeout.
    if (delivery.replyTo !== undefined) await deps.replies.send(delivery.replyTo, encodeFailureReply(delivery.id, reason, error));
    await deps.settler.deadLetter(delivery, { reason, error, attempts, handler: deps.handler });
    this.logger.warn(messages.deadLettered(`queue "${deps.queue}"`, delivery.id, reason, error));
    deps.events.emit('deadLettered', {
      kind: 'queue', source: deps.queue, handler: deps.handler, reason, context: run?.context, exception: run?.exception,
    });
  }
}
