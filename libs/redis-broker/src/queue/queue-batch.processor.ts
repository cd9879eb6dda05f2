import { Logger } from '@nestjs/common';
import { batchFailures } from '../core/batch-result.js';
import { NO_HEADERS, waitMs } from '../core/envelope.js';
import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';
import type { ResolvedBatchOptions } from '../core/options/batch.options.js';
import { BatchCollector } from '../runtime/batch-collector.js';
import { isThenable } from '../runtime/thenable.js';
import { BatchTracing } from '../runtime/tracing/batch-tracing.js';
import type { ProcessMessage } from '../runtime/tracing/process-tracing.js';
import { QueueBatchContext } from './queue-batch.context.js';
import { QueueMessageContext, type QueueDelivery } from './queue-delivery.js';
import type { QueueOutcome, QueueProcessorDeps } from './queue-processor.deps.js';
import { readQueueMessage } from './queue-message.reader.js';
import type { DeadLetterReason } from './queue.settler.js';
import { QueueFailurePath } from './queue-failure.path.js';

/** One message of a batch that reaches the handler. */
interface BatchItem {
  delivery: QueueDelivery;
  payload: unknown;
  context: QueueMessageContext;
}

/** A request cannot be answered by a batch handler: it is refused, and its requester told so at once. */
const REQUEST_REFUSED = 'a batch handler does not answer requests (BrokerClient.request); send them to a one-message handler';

/**
 * Runs a batch `@QueueHandler` (`batch` option): gathers deliveries into
 * batches, reads each (a message that is too large, not UTF-8, not JSON or
 * a request is dead-lettered on its own, the rest of its batch runs), calls
 * the handler once with the payloads, then acks the batch with one call, or
 * retries / dead-letters each failed message as a one-message handler would.
 * Never throws.
 */
export class QueueBatchProcessor {
  private readonly logger = new Logger(QueueBatchProcessor.name);
  private readonly collector: BatchCollector<QueueDelivery>;
  /** Acks sent with their batch's slots already freed. */
  private readonly acksInFlight = new Set<Promise<void>>();
  private acking = 0;
  /** One CONSUMER span per batch run (docs/tracing.md, "Batches"). */
  private readonly tracing: BatchTracing;
  /** Retry, dead letter or hand-back of each failed message, as for a one-message handler. */
  private readonly failures: QueueFailurePath;

  constructor(
    private readonly deps: QueueProcessorDeps,
    batch: ResolvedBatchOptions,
  ) {
    this.tracing = new BatchTracing({ destination: deps.queue, clientId: deps.consumerId });
    this.failures = new QueueFailurePath(deps, this.tracing, this.logger);
    this.collector = new BatchCollector(batch.size, batch.maxWaitMs, (deliveries) => this.runBatch(deliveries));
  }

  /** Resolves when the delivery's batch is settled, or its ack is on its way. */
  process(delivery: QueueDelivery): Promise<void> {
    // A message that already killed a consumer runs as a batch of its own.
    return this.collector.add(delivery, delivery.deaths > 0);
  }

  /** Shutdown: what is gathered runs now, without waiting for a full batch. */
  stopWaiting(): void {
    this.collector.close();
  }

  /** Resolves once every ack sent so far has returned. */
  async drain(): Promise<void> {
    while (this.acksInFlight.size > 0) await Promise.all(this.acksInFlight);
  }

  private async runBatch(deliveries: QueueDelivery[]): Promise<void> {
    const { deps } = this;
    const items: BatchItem[] = [];
    const refused: Promise<void>[] = [];
    const timed = deps.signals.prepare();
    const signal = timed?.signal ?? deps.signals.shared;
    for (const delivery of deliveries) {
      const item = this.read(delivery, signal);
      if ('reason' in item) refused.push(this.failures.deadLetterUnrun(delivery, item.reason, item.error, delivery.attempts + 1));
      else items.push(item);
    }
    if (refused.length > 0) await Promise.all(refused);
    if (items.length === 0) return;
    // The common batch (every message started by its fetch, none suspected) goes straight to the handler.
    const unmarked = items.filter((i) => !i.delivery.marked);
    const suspected = items.some((i) => i.delivery.deaths > 0);
    if (suspected || unmarked.length > 0) {
      try {
        // Acks in flight land first: if this batch holds a poison message that kills the process, nothing handled beside it runs again.
        if (suspected) await this.drain();
        // Messages the fetch recorded as waiting are marked started (one HDEL for the batch), so a crash blames them.
        await Promise.all(unmarked.map((i) => deps.settler.markStarted(i.delivery)));
      } catch (error) {
        for (const item of items) this.failures.unsettled(item.delivery, error);
        return;
      }
    }
    const context = new QueueBatchContext(deps.queue, deps.consumerId, items.map((i) => i.context), signal);
    const started = performance.now();
    // Tracing: a span around the batch's run, undefined when no tracer provider is registered.
    const traced = this.tracing.start(items, describeItem);
    const payloads = items.map((i) => i.payload);
    let result: unknown;
    try {
      result = traced ? traced.run(deps.invoke, payloads, context) : deps.invoke(payloads, context);
      if (isThenable(result)) {
        result = await (timed ? timed.race(result, (error) => this.late(items.length, error)) : result);
      }
    } catch (error) {
      traced?.threw(error);
      const all = new Array<unknown>(items.length).fill(error);
      // finally: a hook that throws from an event must not leave the span open.
      try { await this.settleBatch(items, all, started, timed?.timedOut === true); } finally { traced?.end(all); }
      return;
    }
    const { failures, error } = batchFailures(result, items.length);
    if (error) traced?.threw(error);
    const settled = error ? new Array<unknown>(items.length).fill(error) : failures;
    try { await this.settleBatch(items, settled, started, false); } finally { traced?.end(settled); }
  }

  /** The item the handler gets, or why the message cannot reach it. */
  private read(delivery: QueueDelivery, signal: AbortSignal): BatchItem | { reason: DeadLetterReason; error: string } {
    const { options, replies, queue, consumerId } = this.deps;
    if (delivery.size > options.maxMessageBytes) {
      return { reason: 'too-large', error: `message is ${delivery.size} bytes; maxMessageBytes is ${options.maxMessageBytes}` };
    }
    const raw = delivery.decode();
    if (raw === undefined) return { reason: 'invalid-utf8', error: 'message is not valid UTF-8 text' };
    const read = readQueueMessage(raw, options.parse);
    if ('reason' in read) return read;
    const { payload, envelope } = read;
    if (envelope) {
      delivery.envelopeId = envelope.id;
      if (envelope.headers !== NO_HEADERS) delivery.replyTo = replies.replyTo(envelope.headers, envelope.id);
      if (delivery.replyTo !== undefined) return { reason: 'non-retryable', error: REQUEST_REFUSED };
    }
    const context = new QueueMessageContext(delivery, queue, delivery.attempts + 1, raw, consumerId, delivery.receivedAt, signal, envelope);
    return { delivery, payload, context };
  }

  /**
   * `failures[i]`: what item i failed with, undefined when it succeeded
   * (`failures` undefined: all succeeded). Successes are acked with one
   * call; the batch's slots are freed before that ack returns unless too
   * many acks are outstanding already.
   */
  private async settleBatch(items: BatchItem[], failures: unknown[] | undefined, started: number, timedOut: boolean): Promise<void> {
    const { deps } = this;
    const durationMs = performance.now() - started;
    const succeeded: QueueDelivery[] = [];
    const failing: Promise<void>[] = [];
    const report = deps.events.listenerCount('handled') > 0;
    items.forEach((item, i) => {
      const failure = failures?.[i];
      if (failure === undefined) {
        succeeded.push(item.delivery);
        if (report) deps.events.emit('handled', {
          kind: 'queue', source: deps.queue, handler: deps.handler, durationMs, waitMs: waitMs(item.context.enqueuedAt, durationMs), context: item.context,
        });
      } else failing.push(this.failures.failed(item.delivery, item.context, failure, durationMs, timedOut));
    });
    const acked = this.ack(succeeded);
    await Promise.all(failing);
    if (acked) await acked;
  }

  /** Undefined when the ack is on its way and the slots may be freed already. */
  private ack(deliveries: QueueDelivery[]): Promise<void> | undefined {
    const { deps } = this;
    const needed: QueueDelivery[] = [];
    for (const d of deliveries) {
      if (deps.settler.needsAck(d)) needed.push(d);
      else deps.release(d, 'settled');
    }
    if (needed.length === 0) return undefined;
    this.acking += needed.length;
    const sent = this.sendAck(needed).finally(() => {
      this.acking -= needed.length;
      this.acksInFlight.delete(sent);
    });
    this.acksInFlight.add(sent);
    return this.acking > deps.maxAcking ? sent : undefined;
  }

  /** Never rejects: a failed ack is reported as such, and re-sent at the next recovery. */
  private async sendAck(deliveries: QueueDelivery[]): Promise<void> {
    let outcome: QueueOutcome = 'settled';
    try {
      await this.deps.settler.ack(deliveries);
    } catch (error) {
      outcome = 'ack-failed';
      const text = errorText(error);
      for (const d of deliveries) this.logger.warn(messages.ackFailed(`queue "${this.deps.queue}"`, d.id, text));
    }
    for (const d of deliveries) this.deps.release(d, outcome);
  }

  private late(size: number, error: unknown): void {
    const { deps } = this;
    const outcome = error === undefined ? 'succeeded' : `failed: ${errorText(error)}`;
    this.logger.warn(messages.lateHandlerResult(deps.handler, `queue "${deps.queue}"`, `(a batch of ${size})`, deps.signals.timeoutMs, outcome));
  }
}

/** What a batch span records of one of its messages (see `BatchTracing.start`). */
function describeItem(context: QueueMessageContext): ProcessMessage {
  return { id: context.id, carrier: context.headers };
}
