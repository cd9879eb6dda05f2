import { Logger } from '@nestjs/common';
import type { QueueOutcome, QueueProcessorDeps } from './queue-processor.deps.js';
import { messages } from '../core/messages.js';
import { errorText } from '../core/error-text.js';
import type { TimedRun } from '../runtime/run-signals.js';
import { isThenable } from '../runtime/thenable.js';
import { TickBatcher } from '../runtime/tick-batcher.js';
import type { KeyRateGate } from '../runtime/limits/key-rate.gate.js';
import { QueueMessageContext, type QueueDelivery } from './queue-delivery.js';
import { readQueueMessage } from './queue-message.reader.js';
import { NO_HEADERS, waitMs } from '../core/envelope.js';
import { QueueFailurePath } from './queue-failure.path.js';
import { encodeSuccessReply } from './queue-reply.wire.js';
import { ProcessTracing, type ProcessMessage } from '../runtime/tracing/process-tracing.js';

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
  /** Retry, dead letter or hand-back of a failed delivery (shared with batch handlers). */
  private readonly failures: QueueFailurePath;

  constructor(private readonly deps: QueueProcessorDeps) {
    this.acks = new TickBatcher((deliveries) => this.sendAcks(deliveries), setImmediate);
    this.tracing = new ProcessTracing({ destination: deps.queue, clientId: deps.consumerId, relation: 'parent' });
    this.failures = new QueueFailurePath(deps, this.tracing, this.logger);
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
      return this.failures.deadLetterUnrun(delivery, 'too-large', `message is ${size} bytes; maxMessageBytes is ${options.maxMessageBytes}`, attempt);
    }
    const raw = delivery.decode();
    if (raw === undefined) {
      return this.failures.deadLetterUnrun(delivery, 'invalid-utf8', 'message is not valid UTF-8 text', attempt);
    }
    const read = readQueueMessage(raw, options.parse);
    if ('reason' in read) return this.failures.deadLetterUnrun(delivery, read.reason, read.error, attempt);
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
      this.failures.unsettled(delivery, error);
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
      this.failures.unsettled(delivery, error);
      return;
    }
    if (waitMs > 0) return this.failures.settleWith(delivery, () => this.defer(delivery, waitMs));
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
      this.failures.unsettled(delivery, error);
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

  private failed(delivery: QueueDelivery, error: unknown, started: number, context: QueueMessageContext, timedOut = false): Promise<void> {
    return this.failures.failed(delivery, context, error, performance.now() - started, timedOut);
  }
}

/** What a run's span records of its message (see `ProcessTracing.start`). */
function describeRun(context: QueueMessageContext): ProcessMessage {
  return { id: context.id, attempt: context.attempt, carrier: context.headers };
}
