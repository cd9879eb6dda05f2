import { BadRequestException, Logger } from '@nestjs/common';
import type { HandlerInvoker } from '../discovery/handler-descriptor.js';
import { NonRetryableError } from '../core/errors/non-retryable.error.js';
import { messages } from '../core/messages.js';
import type { BrokerEvents } from '../core/events.js';
import type { ResolvedStreamConsumerOptions } from '../core/options/handler.options.js';
import { backoffDelay } from '../runtime/backoff.js';
import { errorText, validationText } from '../core/error-text.js';
import { isThenable } from '../runtime/thenable.js';
import { fieldsToObject, oversizeBytes, StreamMessageContext, type StreamEntry } from './stream-entry.js';
import type { StreamDeadLetterReason, StreamSettler } from './stream.settler.js';
import { splitHeaderFields } from './stream-headers.js';
import { entryIdTime, waitMs } from '../core/envelope.js';

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

  constructor(private readonly deps: StreamProcessorDeps) {
    this.source = `${deps.stream}/${deps.group}`;
  }

  /**
   * Returns the entry's settlement; a synchronous handler's entry costs no
   * `async` frame, only the wait for its batched `XACK`.
   */
  process(entry: StreamEntry): Promise<void> {
    const { deps } = this;
    let payload: Record<string, unknown>;
    let context: StreamMessageContext;
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
      context = new StreamMessageContext(entry.id, deps.stream, deps.group, deps.consumer, entry.deliveries, fields, entry.requeued, Date.now(), split?.headers);
    } catch (error) {
      // Left pending in Redis, as a failed settle is.
      this.settleFailed(entry, error);
      deps.release(entry);
      return Promise.resolve();
    }
    const started = performance.now();
    let result: unknown;
    try {
      result = deps.invoke(payload, context);
    } catch (error) {
      return this.settle(entry, () => this.failed(entry, error, started));
    }
    if (!isThenable(result)) return this.succeeded(entry, started);
    return Promise.resolve(result).then(
      () => this.succeeded(entry, started),
      (error: unknown) => this.settle(entry, () => this.failed(entry, error, started)),
    );
  }

  private succeeded(entry: StreamEntry, started: number): Promise<void> {
    const { deps } = this;
    // The hot path of a busy stream: no event object when nobody listens.
    if (deps.events.listenerCount('handled') > 0) {
      const durationMs = performance.now() - started;
      deps.events.emit('handled', { kind: 'stream', source: this.source, handler: deps.handler, durationMs, waitMs: waitMs(entryIdTime(entry.id), durationMs) });
    }
    return deps.settler.ack(entry).then(
      () => deps.release(entry),
      (error: unknown) => {
        this.settleFailed(entry, error);
        deps.release(entry);
      },
    );
  }

  private async failed(entry: StreamEntry, error: unknown, started: number): Promise<void> {
    const durationMs = performance.now() - started;
    const text = errorText(error);
    const wait = waitMs(entryIdTime(entry.id), durationMs);
    this.deps.events.emit('failed', { kind: 'stream', source: this.source, handler: this.deps.handler, durationMs, waitMs: wait, error: text });
    await this.onFailure(entry, error, text);
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

  private async onFailure(entry: StreamEntry, error: unknown, text: string): Promise<void> {
    const { deps } = this;
    this.logger.warn(messages.handlerFailed(deps.handler, `stream "${deps.stream}" group "${deps.group}"`, entry.id, entry.deliveries, text));
    if (error instanceof NonRetryableError) return this.deadLetter(entry, 'non-retryable', text);
    if (error instanceof BadRequestException) return this.deadLetter(entry, 'validation', validationText(error));
    if (entry.deliveries >= deps.options.maxDeliveries) return this.deadLetter(entry, 'max-deliveries', text);
    const delayMs = backoffDelay(deps.options.backoff, entry.deliveries);
    await deps.settler.retry(entry);
    deps.retryScheduled(entry, delayMs);
    deps.events.emit('retried', { kind: 'stream', source: this.source, handler: deps.handler, attempt: entry.deliveries, delayMs });
  }

  private async deadLetter(entry: StreamEntry, reason: StreamDeadLetterReason, error: string): Promise<void> {
    const { deps } = this;
    await deps.settler.deadLetter(entry, { reason, error, handler: deps.handler });
    this.logger.warn(messages.streamDeadLettered(`stream "${deps.stream}" group "${deps.group}"`, entry.id, reason, error));
    deps.events.emit('deadLettered', { kind: 'stream', source: this.source, handler: deps.handler, reason });
  }
}

/**
 * `json-fields`: values starting with `{` or `[` are decoded, others stay
 * strings. Returns the decoded object, or the reason it could not be.
 */
function decodeJsonFields(fields: Record<string, string>): Record<string, unknown> | string {
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
