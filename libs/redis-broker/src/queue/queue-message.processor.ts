import { Logger } from '@nestjs/common';
import { deadLetterVerdict } from '../runtime/failure-verdict.js';
import type { HandlerInvoker } from '../discovery/handler-descriptor.js';
import { messages } from '../core/messages.js';
import type { BrokerEvents } from '../core/events.js';
import type { ResolvedQueueHandlerOptions } from '../core/options/handler.options.js';
import { errorText } from '../core/error-text.js';
import { backoffDelay } from '../runtime/backoff.js';
import type { RunSignals, TimedRun } from '../runtime/run-signals.js';
import { isThenable } from '../runtime/thenable.js';
import { TickBatcher } from '../runtime/tick-batcher.js';
import type { KeyRateGate } from '../runtime/limits/key-rate.gate.js';
import { QueueMessageContext, type QueueDelivery } from './queue-delivery.js';
import { readQueueMessage } from './queue-message.reader.js';
import { NO_HEADERS, waitMs } from '../core/envelope.js';
import type { QueueReplySender } from './queue-reply.sender.js';
import { encodeFailureReply, encodeSuccessReply } from './queue-reply.wire.js';
import type { DeadLetterReason, QueueSettler } from './queue.settler.js';
import { ProcessTracing, type ProcessMessage } from '../runtime/tracing/process-tracing.js';

/** How a delivery left the processor; `handed-back`: failed after shutdown's deadline, left for the hand-back. */
export type QueueOutcome = 'settled' | 'unsettled' | 'ack-failed' | 'handed-back';

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
  /** The runs' abort signals and `timeoutMs` clock. */
  signals: RunSignals;
  /** Sends the replies of request messages (those with an `nrb-reply-to` header). */
  replies: QueueReplySender;
  /** `rateLimit.key`: each message's key is admitted before it runs. */
  keyGate?: KeyRateGate;
}

/**
 * Runs one queue delivery from bytes to settlement: size and encoding checks,
 * parse, the handler through Nest's pipeline, then ack, retry with backoff, or
 * dead-letter with the reason. Never throws: a settle failure is logged, and
 * in reliable mode the processing list is re-read (a copy still there runs
 * again). A synchronous handler of a delivery that starts at once runs
 * without a promise of its own; acks of one turn of the event loop go in one
 * call.
 */
export class QueueMessageProcessor {
  private readonly logger = new Logger(QueueMessageProcessor.name);
  private readonly acks: TickBatcher<QueueDelivery>;
  /** Deliveries whose ack is gathered or sent and not returned yet: their slots are already free. */
  private acking = 0;
  /** CONSUMER spans, one per run, keyed by the run's context (docs/tracing.md). */
  private readonly tracing: ProcessTracing;

  constructor(private readonly deps: QueueProcessorDeps) {
    this.acks = new TickBatcher((deliveries) => this.sendAcks(deliveries), setImmediate);
    this.tracing = new ProcessTracing({ destination: deps.queue, clientId: deps.consumerId, relation: 'parent' });
  }

  /**
   * Returns undefined when the delivery is settled or its ack is on its way,
   * else a promise of that. A successful delivery frees its slot as soon as
   * its ack is gathered, so the next fetch overlaps the ack's round trip; at
   * most `maxAcking` acks are outstanding, after which a delivery waits for
   * its own. `drain` waits for them all.
   */
  process(delivery: QueueDelivery): Promise<void> | undefined {
    const { options } = this.deps;
    const { size } = delivery;
    const attempt = delivery.attempts + 1;
    if (size > options.maxMessageBytes) {
      return this.deadLetterUnrun(delivery, 'too-large', `message is ${size} bytes; maxMessageBytes is ${options.maxMessageBytes}`, attempt);
    }
    const raw = delivery.decode();
    if (raw === undefined) {
      return this.deadLetterUnrun(delivery, 'invalid-utf8', 'message is not valid UTF-8 text', attempt);
    }
    const read = readQueueMessage(raw, options.parse);
    if ('reason' in read) return this.deadLetterUnrun(delivery, read.reason, read.error, attempt);
    const { payload, envelope } = read;
    if (envelope) {
      delivery.envelopeId = envelope.id;
      if (envelope.headers !== NO_HEADERS) delivery.replyTo = this.deps.replies.replyTo(envelope.headers, envelope.id);
    }
    const timed = this.deps.signals.prepare();
    const signal = timed?.signal ?? this.deps.signals.shared;
    const context = new QueueMessageContext(delivery, this.deps.queue, attempt, raw, this.deps.consumerId, delivery.receivedAt, signal, envelope);
    if (this.deps.keyGate) return this.admitThenRun(this.deps.keyGate, delivery, payload, context, timed);
    if (delivery.deaths > 0 || !delivery.marked) return this.prepareThenRun(delivery, payload, context, timed);
    return this.run(delivery, payload, context, timed);
  }

  /** Resolves once every ack gathered so far has returned (shutdown waits for it before handing messages back). */
  drain(): Promise<void> {
    return this.acks.settled();
  }

  /**
   * A message that already killed a consumer runs alone (the loop sees to
   * that) and also after every ack in flight has landed: if it kills this
   * process too, nothing handled beside it runs again. A message the fetch
   * recorded as waiting is marked started first, so a crash blames it.
   */
  private async prepareThenRun(delivery: QueueDelivery, payload: unknown, context: QueueMessageContext, timed: TimedRun | undefined): Promise<void> {
    try {
      if (delivery.deaths > 0) await this.drain();
      await this.deps.settler.markStarted(delivery);
    } catch (error) {
      this.unsettled(delivery, error);
      return;
    }
    await this.run(delivery, payload, context, timed);
  }

  /**
   * `rateLimit.key`: one start is counted in the message's key's window
   * before it runs. A message over its key's limit goes back to the delayed
   * set until the window has room, no attempt counted. A key function that
   * throws fails the attempt; a Redis error leaves the delivery unsettled.
   */
  private async admitThenRun(gate: KeyRateGate, delivery: QueueDelivery, payload: unknown, context: QueueMessageContext, timed: TimedRun | undefined): Promise<void> {
    let key: string;
    try {
      key = gate.keyFor(payload, context);
    } catch (error) {
      return this.failed(delivery, error, performance.now(), context);
    }
    let waitMs: number;
    try {
      waitMs = await gate.admit(key);
    } catch (error) {
      this.unsettled(delivery, error);
      return;
    }
    if (waitMs > 0) return this.settleWith(delivery, () => this.defer(delivery, waitMs));
    if (delivery.deaths > 0 || !delivery.marked) return this.prepareThenRun(delivery, payload, context, timed);
    await this.run(delivery, payload, context, timed);
  }

  private async defer(delivery: QueueDelivery, waitMs: number): Promise<void> {
    const { deps } = this;
    await deps.settler.defer(delivery, waitMs);
    deps.retryScheduled(waitMs);
    deps.events.emit('limited', { kind: 'queue', source: deps.queue, handler: deps.handler, limit: 'rateKey', waitMs });
  }

  /**
   * With `timeoutMs`, an asynchronous result races its clock: the first of
   * the two settles the delivery, once; what the handler does later is logged
   * and ignored.
   */
  private run(delivery: QueueDelivery, payload: unknown, context: QueueMessageContext, timed: TimedRun | undefined): Promise<void> | undefined {
    const started = performance.now();
    // Tracing: a span around the run, undefined when no tracer provider is registered.
    const traced = this.tracing.start(context, describeRun, undefined);
    let result: unknown;
    try {
      result = traced ? traced.run(this.deps.invoke, payload, context) : this.deps.invoke(payload, context);
    } catch (error) {
      return this.failed(delivery, error, started, context);
    }
    if (!isThenable(result)) return this.succeeded(delivery, started, context, result);
    const settled = timed ? timed.race(result, (error) => this.late(delivery, error)) : Promise.resolve(result);
    return settled.then(
      (value) => this.succeeded(delivery, started, context, value),
      (error: unknown) => this.failed(delivery, error, started, context, timed?.timedOut === true),
    );
  }

  /** A timed-out handler finished after all: its delivery was settled at the timeout. */
  private late(delivery: QueueDelivery, error: unknown): void {
    const { deps } = this;
    const outcome = error === undefined ? 'succeeded' : `failed: ${errorText(error)}`;
    this.logger.warn(messages.lateHandlerResult(deps.handler, `queue "${deps.queue}"`, delivery.id, deps.signals.timeoutMs, outcome));
  }

  /** `value`: what the handler returned (an Observable already reduced to its last value by the invoker). */
  private succeeded(delivery: QueueDelivery, started: number, context: QueueMessageContext, value: unknown): Promise<void> | undefined {
    const { deps } = this;
    this.tracing.succeeded(context);
    if (deps.events.listenerCount('handled') > 0) {
      const durationMs = performance.now() - started;
      deps.events.emit('handled', {
        kind: 'queue', source: deps.queue, handler: deps.handler, durationMs, waitMs: waitMs(context.enqueuedAt, durationMs), context,
      });
    }
    if (delivery.replyTo !== undefined) return this.replyThenAck(delivery, delivery.replyTo, encodeSuccessReply(delivery.id, value));
    return this.ack(delivery);
  }

  /**
   * The reply goes before the ack: a crash between the two runs the message
   * again (at-least-once) and the requester drops the second reply. A reply
   * Redis did not take leaves the delivery unsettled, so it runs again.
   */
  private async replyThenAck(delivery: QueueDelivery, replyTo: string, reply: string): Promise<void> {
    try {
      await this.deps.replies.send(replyTo, reply);
    } catch (error) {
      this.unsettled(delivery, error);
      return;
    }
    await this.ack(delivery);
  }

  private ack(delivery: QueueDelivery): Promise<void> | undefined {
    const { deps } = this;
    if (!deps.settler.needsAck(delivery)) {
      deps.release(delivery, 'settled');
      return undefined;
    }
    this.acking += 1;
    const acked = this.acks.add(delivery);
    return this.acking > deps.maxAcking ? acked : undefined;
  }

  /** Never rejects: a failed ack is reported as such, and its ack re-sent later. */
  private async sendAcks(deliveries: QueueDelivery[]): Promise<void> {
    let outcome: QueueOutcome = 'settled';
    try {
      await this.deps.settler.ack(deliveries);
    } catch (error) {
      outcome = 'ack-failed';
      const text = errorText(error);
      for (const delivery of deliveries) this.logger.warn(messages.ackFailed(`queue "${this.deps.queue}"`, delivery.id, text));
    }
    this.acking -= deliveries.length;
    for (const delivery of deliveries) this.deps.release(delivery, outcome);
  }

  private async failed(delivery: QueueDelivery, error: unknown, started: number, context: QueueMessageContext, timedOut = false): Promise<void> {
    const { deps } = this;
    if (deps.signals.deadlinePassed && deps.options.mode === 'reliable') {
      // Stopped by shutdown, not by its own fault: its copy stays in the
      // processing list, which the stop hands back (no attempt counted).
      this.tracing.failed(context, error, { handedBack: true });
      deps.release(delivery, 'handed-back');
      return;
    }
    const durationMs = performance.now() - started;
    const text = errorText(error);
    deps.events.emit('failed', {
      kind: 'queue', source: deps.queue, handler: deps.handler, durationMs, waitMs: waitMs(context.enqueuedAt, durationMs), error: text, exception: error, context,
    });
    await this.settleWith(delivery, () => this.onFailure(delivery, error, text, context, timedOut));
  }

  /** Dead-letters a delivery its handler never saw (too large, not UTF-8, not JSON). */
  private deadLetterUnrun(delivery: QueueDelivery, reason: DeadLetterReason, error: string, attempt: number): Promise<void> {
    return this.settleWith(delivery, () => this.deadLetter(delivery, reason, error, attempt));
  }

  /** Runs a retry or dead-letter step, then releases the delivery as settled, or as unsettled when the step failed. */
  private async settleWith(delivery: QueueDelivery, step: () => Promise<void>): Promise<void> {
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
  private unsettled(delivery: QueueDelivery, error: unknown): void {
    const text = this.deps.options.mode === 'reliable' ? messages.settleError : messages.fastSettleError;
    this.logger.error(text(`queue "${this.deps.queue}"`, delivery.id, errorText(error)));
    this.deps.release(delivery, 'unsettled');
  }

  private async onFailure(delivery: QueueDelivery, error: unknown, text: string, context: QueueMessageContext, timedOut: boolean): Promise<void> {
    const { deps } = this;
    const { attempt } = context;
    this.logger.warn(messages.handlerFailed(deps.handler, `queue "${deps.queue}"`, delivery.id, attempt, text));
    const run = { context, exception: error };
    const verdict = deadLetterVerdict(error, text, attempt, deps.options.maxAttempts, timedOut, 'max-attempts');
    if (verdict) return this.deadLetter(delivery, verdict.reason, verdict.error, attempt, run);
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
    // A request whose handler ran gets its failure first (before the settle, as a success reply is).
    if (run && delivery.replyTo !== undefined) await deps.replies.send(delivery.replyTo, encodeFailureReply(delivery.id, reason, error));
    await deps.settler.deadLetter(delivery, { reason, error, attempts, handler: deps.handler });
    this.logger.warn(messages.deadLettered(`queue "${deps.queue}"`, delivery.id, reason, error));
    deps.events.emit('deadLettered', {
      kind: 'queue', source: deps.queue, handler: deps.handler, reason, context: run?.context, exception: run?.exception,
    });
  }
}

/** What a run's span records of its message (see `ProcessTracing.start`). */
function describeRun(context: QueueMessageContext): ProcessMessage {
  return { id: context.id, attempt: context.attempt, carrier: context.headers };
}
