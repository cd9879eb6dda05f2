import { Logger } from '@nestjs/common';
import { deadLetterVerdict } from '../runtime/failure-verdict.js';
import type { HandlerInvoker } from '../discovery/handler-descriptor.js';
import { messages } from '../core/messages.js';
import type { BrokerEvents } from '../core/events.js';
import type { ResolvedStreamConsumerOptions } from '../core/options/handler.options.js';
import { backoffDelay } from '../runtime/backoff.js';
import { errorText } from '../core/error-text.js';
import type { RunSignals, TimedRun } from '../runtime/run-signals.js';
import { isThenable } from '../runtime/thenable.js';
import { fieldsToObject, oversizeBytes, StreamMessageContext, type StreamEntry } from './stream-entry.js';
import type { StreamDeadLetterReason, StreamSettler } from './stream.settler.js';
import { splitHeaderFields } from './stream-headers.js';
import { entryIdTime, waitMs } from '../core/envelope.js';
import { ProcessTracing, type ProcessMessage } from '../runtime/tracing/process-tracing.js';

/** What the processor needs from the rest of one group consumer. */
export interface StreamProcessorDeps {
  stream: string;
  group: string;
  consumer: string;
  handler: string;
  invoke: HandlerInvoker;
  options: ResolvedStreamConsumerOptions;
  settler: StreamSettler;
  events: BrokerEvents;
  /** Called once an entry is settled or left pending. */
  release: (entry: StreamEntry) => void;
  /** Called when a failed entry should run again `delayMs` from now. */
  retryScheduled: (entry: StreamEntry, delayMs: number) => void;
  /**
   * Most acks outstanding with their slots already freed; past it an entry
   * keeps its slot until its own `XACK` returns.
   */
  maxAcking: number;
  /** The runs' abort signals and `timeoutMs` clock. */
  signals: RunSignals;
}

/**
 * Runs one stream entry to its settlement: too many deliveries already, or
 * larger than `maxMessageBytes` → dead-letter; parse; the handler through
 * Nest's pipeline; then ack, leave pending for a redelivery with backoff, or
 * dead-letter with the reason.
 * Never throws: a settle failure is logged and the entry stays pending in
 * Redis, to be reclaimed.
 */
export class StreamMessageProcessor {
  private readonly logger = new Logger(StreamMessageProcessor.name);
  private readonly source: string;
  /** CONSUMER spans, one per run, keyed by the run's context (docs/tracing.md). */
  private readonly tracing: ProcessTracing;
  /** Entries whose `XACK` is on its way (or being re-sent): their slots may be free already. */
  private acking = 0;
  /** `drain` callers, resolved once `acking` is back to 0. */
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly deps: StreamProcessorDeps) {
    this.source = `${deps.stream}/${deps.group}`;
    this.tracing = new ProcessTracing({ destination: deps.stream, group: deps.group, clientId: deps.consumer, relation: 'parent' });
  }

  /**
   * Returns the entry's settlement, or undefined once a handled entry's
   * `XACK` is on its way: its slot frees without waiting for the round trip
   * (the entry stays held, refreshed and out of the reclaimer's reach, until
   * the ack lands). At most `maxAcking` acks are outstanding that way.
   */
  process(entry: StreamEntry): Promise<void> | undefined {
    const { deps } = this;
    let payload: Record<string, unknown>;
    let context: StreamMessageContext;
    let timed: TimedRun | undefined;
    try {
      if (entry.deliveries > deps.options.maxDeliveries) {
        // Delivered that often without a verdict: its consumers crashed or stalled on it.
        return this.settle(entry, () => this.deadLetter(entry, 'max-deliveries', `delivered ${entry.deliveries} times without being acknowledged`));
      }
      const size = oversizeBytes(entry.fields, deps.options.maxMessageBytes);
      if (size > 0) {
        return this.settle(entry, () => this.deadLetter(entry, 'too-large', `entry is ${size} bytes; maxMessageBytes is ${deps.options.maxMessageBytes}`));
      }
      const fields = fieldsToObject(entry.fields);
      const split = splitHeaderFields(fields);
      const strings = split ? split.payload : fields;
      payload = strings;
      if (deps.options.parse === 'json-fields') {
        const decoded = decodeJsonFields(strings);
        if (typeof decoded === 'string') return this.settle(entry, () => this.deadLetter(entry, 'unparsable', decoded));
        payload = decoded;
      }
      timed = deps.signals.prepare();
      const signal = timed?.signal ?? deps.signals.shared;
      context = new StreamMessageContext(entry.id, deps.stream, deps.group, deps.consumer, entry.deliveries, fields, entry.requeued, Date.now(), signal, split?.headers);
    } catch (error) {
      // Left pending in Redis, as a failed settle is.
      this.settleFailed(entry, error);
      deps.release(entry);
      return Promise.resolve();
    }
    if (entry.takenOver === true) {
      deps.events.emit('reclaimed', { kind: 'stream', source: this.source, handler: deps.handler, count: 1, from: undefined, context });
    }
    const started = performance.now();
    // Tracing: a span around the run, undefined when no tracer provider is registered.
    const traced = this.tracing.start(context, describeRun, undefined);
    let result: unknown;
    try {
      result = traced ? traced.run(deps.invoke, payload, context) : deps.invoke(payload, context);
    } catch (error) {
      return this.settle(entry, () => this.failed(entry, error, started, context));
    }
    if (!isThenable(result)) return this.succeeded(entry, started, context);
    // With timeoutMs the first of result and clock settles the entry, once.
    const settled = timed ? timed.race(result, (error) => this.late(entry, error)) : Promise.resolve(result);
    return settled.then(
      () => this.succeeded(entry, started, context),
      (error: unknown) => this.settle(entry, () => this.failed(entry, error, started, context, timed?.timedOut === true)),
    );
  }

  /** A timed-out handler finished after all: its entry was settled at the timeout. */
  private late(entry: StreamEntry, error: unknown): void {
    const { deps } = this;
    const outcome = error === undefined ? 'succeeded' : `failed: ${errorText(error)}`;
    this.logger.warn(messages.lateHandlerResult(deps.handler, `stream "${deps.stream}" group "${deps.group}"`, entry.id, deps.signals.timeoutMs, outcome));
  }

  /** Resolves once every `XACK` sent so far has returned or been given up (shutdown waits for it). */
  drain(): Promise<void> {
    if (this.acking === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private succeeded(entry: StreamEntry, started: number, context: StreamMessageContext): Promise<void> | undefined {
    const { deps } = this;
    this.tracing.succeeded(context);
    // The hot path of a busy stream: no event object when nobody listens.
    if (deps.events.listenerCount('handled') > 0) {
      const durationMs = performance.now() - started;
      deps.events.emit('handled', {
        kind: 'stream', source: this.source, handler: deps.handler, durationMs, waitMs: waitMs(entryIdTime(entry.id), durationMs), context,
      });
    }
    this.acking += 1;
    const acked = deps.settler.ack(entry).then(
      () => this.acked(entry),
      (error: unknown) => {
        this.settleFailed(entry, error);
        this.acked(entry);
      },
    );
    return this.acking > deps.maxAcking ? acked : undefined;
  }

  private acked(entry: StreamEntry): void {
    this.deps.release(entry);
    this.acking -= 1;
    if (this.acking > 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async failed(entry: StreamEntry, error: unknown, started: number, context: StreamMessageContext, timedOut = false): Promise<void> {
    // Stopped by shutdown, not by its own fault: it stays pending, to be reclaimed (no verdict).
    if (this.deps.signals.deadlinePassed) return this.tracing.failed(context, error, { handedBack: true });
    const durationMs = performance.now() - started;
    const text = errorText(error);
    const wait = waitMs(entryIdTime(entry.id), durationMs);
    this.deps.events.emit('failed', {
      kind: 'stream', source: this.source, handler: this.deps.handler, durationMs, waitMs: wait, error: text, exception: error, context,
    });
    await this.onFailure(entry, error, text, context, timedOut);
  }

  /** Runs a settling step; whatever happens, the entry is released (left pending in Redis when the step failed). */
  private async settle(entry: StreamEntry, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.settleFailed(entry, error);
    } finally {
      this.deps.release(entry);
    }
  }

  private settleFailed(entry: StreamEntry, error: unknown): void {
    this.logger.error(messages.streamSettleError(`stream "${this.deps.stream}" group "${this.deps.group}"`, entry.id, errorText(error)));
  }

  private async onFailure(entry: StreamEntry, error: unknown, text: string, context: StreamMessageContext, timedOut: boolean): Promise<void> {
    const { deps } = this;
    this.logger.warn(messages.handlerFailed(deps.handler, `stream "${deps.stream}" group "${deps.group}"`, entry.id, entry.deliveries, text));
    const run = { context, exception: error };
    const verdict = deadLetterVerdict(error, text, entry.deliveries, deps.options.maxDeliveries, timedOut, 'max-deliveries');
    if (verdict) return this.deadLetter(entry, verdict.reason, verdict.error, run);
    const delayMs = backoffDelay(deps.options.backoff, entry.deliveries);
    this.tracing.failed(context, error, { retryDelayMs: delayMs });
    await deps.settler.retry(entry);
    deps.retryScheduled(entry, delayMs);
    deps.events.emit('retried', { kind: 'stream', source: this.source, handler: deps.handler, attempt: entry.deliveries, delayMs, context, exception: error });
  }

  /** `run`: the failed run's context and what it threw; absent when no handler saw the entry. */
  private async deadLetter(
    entry: StreamEntry,
    reason: StreamDeadLetterReason,
    error: string,
    run?: { context: StreamMessageContext; exception: unknown },
  ): Promise<void> {
    const { deps } = this;
    if (run) this.tracing.failed(run.context, run.exception, { deadLetter: reason });
    await deps.settler.deadLetter(entry, { reason, error, handler: deps.handler });
    this.logger.warn(messages.streamDeadLettered(`stream "${deps.stream}" group "${deps.group}"`, entry.id, reason, error));
    deps.events.emit('deadLettered', {
      kind: 'stream', source: this.source, handler: deps.handler, reason, context: run?.context, exception: run?.exception,
    });
  }
}

/** What a run's span records of its entry (see `ProcessTracing.start`). */
function describeRun(context: StreamMessageContext): ProcessMessage {
  return { id: context.id, attempt: context.deliveryCount, carrier: context.headers };
}

/**
 * `json-fields`: values starting with `{` or `[` are decoded, others stay
 * strings. Returns the decoded object, or the reason it could not be.
 */
export function decodeJsonFields(fields: Record<string, string>): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    const first = value.trimStart()[0];
    if (first !== '{' && first !== '[') {
      out[name] = value;
      continue;
    }
    try {
      out[name] = JSON.parse(value) as unknown;
    } catch (error) {
      return `field "${name}" is not JSON: ${errorText(error)}`;
    }
  }
  return out;
}
