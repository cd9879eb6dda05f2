import type { Logger } from '@nestjs/common';
import { entryIdTime, waitMs } from '../core/envelope.js';
import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';
import { backoffDelay } from '../runtime/backoff.js';
import { deadLetterVerdict } from '../runtime/failure-verdict.js';
import type { FailureTracing } from '../runtime/tracing/process-tracing.js';
import type { StreamEntry, StreamMessageContext } from './stream-entry.js';
import type { StreamProcessorDeps } from './stream-processor.deps.js';
import type { StreamDeadLetterReason } from './stream.settler.js';

/**
 * What happens to a stream entry that failed, the same for one-entry and
 * batch handlers: past shutdown's deadline it stays pending, to be
 * reclaimed; otherwise the `failed` event, then a redelivery with backoff or
 * a dead letter with the reason. Steps run through `settle`, which releases
 * the entry whatever happens (left pending in Redis when a step failed).
 * Logs go to the processor's logger.
 */
export class StreamFailurePath {
  private readonly source: string;
  private readonly where: string;

  constructor(
    private readonly deps: StreamProcessorDeps,
    private readonly tracing: FailureTracing,
    private readonly logger: Logger,
  ) {
    this.source = `${deps.stream}/${deps.group}`;
    this.where = `stream "${deps.stream}" group "${deps.group}"`;
  }

  /** A run of `context`'s entry threw (or its batch reported it failed) after `durationMs`. Call it through `settle`. */
  async failed(entry: StreamEntry, context: StreamMessageContext, error: unknown, durationMs: number, timedOut: boolean): Promise<void> {
    const { deps } = this;
    // Stopped by shutdown, not by its own fault: it stays pending, to be reclaimed (no verdict).
    if (deps.signals.deadlinePassed) return this.tracing.failed(context, error, { handedBack: true });
    const text = errorText(error);
    deps.events.emit('failed', {
      kind: 'stream', source: this.source, handler: deps.handler, durationMs, waitMs: waitMs(entryIdTime(entry.id), durationMs), error: text, exception: error, context,
    });
    this.logger.warn(messages.handlerFailed(deps.handler, this.where, entry.id, entry.deliveries, text));
    const verdict = deadLetterVerdict(error, text, entry.deliveries, deps.options.maxDeliveries, timedOut, 'max-deliveries');
    if (verdict) return this.deadLetter(entry, verdict.reason, verdict.error, { context, exception: error });
    const delayMs = backoffDelay(deps.options.backoff, entry.deliveries);
    this.tracing.failed(context, error, { retryDelayMs: delayMs });
    await deps.settler.retry(entry);
    deps.retryScheduled(entry, delayMs);
    deps.events.emit('retried', { kind: 'stream', source: this.source, handler: deps.handler, attempt: entry.deliveries, delayMs, context, exception: error });
  }

  /** `run`: the failed run's context and what it threw; absent when no handler saw the entry. Call it through `settle`. */
  async deadLetter(entry: StreamEntry, reason: StreamDeadLetterReason, error: string, run?: { context: StreamMessageContext; exception: unknown }): Promise<void> {
    const { deps } = this;
    if (run) this.tracing.failed(run.context, run.exception, { deadLetter: reason });
    await deps.settler.deadLetter(entry, { reason, error, handler: deps.handler });
    this.logger.warn(messages.streamDeadLettered(this.where, entry.id, reason, error));
    deps.events.emit('deadLettered', {
      kind: 'stream', source: this.source, handler: deps.handler, reason, context: run?.context, exception: run?.exception,
    });
  }

  /** Runs a settling step; whatever happens, the entry is released (left pending in Redis when the step failed). */
  async settle(entry: StreamEntry, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.settleFailed(entry, error);
    } finally {
      this.deps.release(entry);
    }
  }

  /** `settle` for many entries with one step (a batch's acks): each is released, each is logged when the step failed. */
  async settleAll(entries: readonly StreamEntry[], step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      for (const entry of entries) this.settleFailed(entry, error);
    } finally {
      for (const entry of entries) this.deps.release(entry);
    }
  }

  /** Logs a step that Redis did not take: the entry stays pending, to be redelivered or reclaimed. */
  settleFailed(entry: StreamEntry, error: unknown): void {
    this.logger.error(messages.streamSettleError(this.where, entry.id, errorText(error)));
  }
}
