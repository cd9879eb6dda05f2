import { Logger } from '@nestjs/common';
import { StreamFailurePath } from './stream-failure.path.js';
import type { StreamProcessorDeps } from './stream-processor.deps.js';
import { messages } from '../core/messages.js';
import { errorText } from '../core/error-text.js';
import type { TimedRun } from '../runtime/run-signals.js';
import { isThenable } from '../runtime/thenable.js';
import { fieldsToObject, oversizeBytes, StreamMessageContext, type StreamEntry } from './stream-entry.js';
import { splitHeaderFields } from './stream-headers.js';
import { entryIdTime, waitMs } from '../core/envelope.js';
import { ProcessTracing, type ProcessMessage } from '../runtime/tracing/process-tracing.js';

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
  /** Redelivery, dead letter or hand-back of a failed entry (shared with batch handlers). */
  private readonly failures: StreamFailurePath;
  /** Entries whose `XACK` is on its way (or being re-sent): their slots may be free already. */
  private acking = 0;
  /** `drain` callers, resolved once `acking` is back to 0. */
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly deps: StreamProcessorDeps) {
    this.source = `${deps.stream}/${deps.group}`;
    this.tracing = new ProcessTracing({ destination: deps.stream, group: deps.group, clientId: deps.consumer, relation: 'parent' });
    this.failures = new StreamFailurePath(deps, this.tracing, this.logger);
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
        return this.failures.settle(entry, () => this.failures.deadLetter(entry, 'max-deliveries', `delivered ${entry.deliveries} times without being acknowledged`));
      }
      const size = oversizeBytes(entry.fields, deps.options.maxMessageBytes);
      if (size > 0) {
        return this.failures.settle(entry, () => this.failures.deadLetter(entry, 'too-large', `entry is ${size} bytes; maxMessageBytes is ${deps.options.maxMessageBytes}`));
      }
      const fields = fieldsToObject(entry.fields);
      const split = splitHeaderFields(fields);
      const strings = split ? split.payload : fields;
      payload = strings;
      if (deps.options.parse === 'json-fields') {
        const decoded = decodeJsonFields(strings);
        if (typeof decoded === 'string') return this.failures.settle(entry, () => this.failures.deadLetter(entry, 'unparsable', decoded));
        payload = decoded;
      }
      timed = deps.signals.prepare();
      const signal = timed?.signal ?? deps.signals.shared;
      context = new StreamMessageContext(entry.id, deps.stream, deps.group, deps.consumer, entry.deliveries, fields, entry.requeued, Date.now(), signal, split?.headers);
    } catch (error) {
      // Left pending in Redis, as a failed settle is.
      this.failures.settleFailed(entry, error);
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
      return this.failures.settle(entry, () => this.failed(entry, error, started, context));
    }
    if (!isThenable(result)) return this.succeeded(entry, started, context);
    // With timeoutMs the first of result and clock settles the entry, once.
    const settled = timed ? timed.race(result, (error) => this.late(entry, error)) : Promise.resolve(result);
    return settled.then(
      () => this.succeeded(entry, started, context),
      (error: unknown) => this.failures.settle(entry, () => this.failed(entry, error, started, context, timed?.timedOut === true)),
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
        this.failures.settleFailed(entry, error);
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

  private failed(entry: StreamEntry, error: unknown, started: number, context: StreamMessageContext, timedOut = false): Promise<void> {
    return this.failures.failed(entry, context, error, performance.now() - started, timedOut);
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
