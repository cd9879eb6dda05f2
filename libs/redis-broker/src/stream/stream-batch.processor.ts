import { Logger } from '@nestjs/common';
import { batchFailures } from '../core/batch-result.js';
import { entryIdTime, waitMs } from '../core/envelope.js';
import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';
import type { ResolvedBatchOptions } from '../core/options/batch.options.js';
import { BatchCollector } from '../runtime/batch-collector.js';
import { isThenable } from '../runtime/thenable.js';
import { BatchTracing } from '../runtime/tracing/batch-tracing.js';
import type { ProcessMessage } from '../runtime/tracing/process-tracing.js';
import { StreamBatchContext } from './stream-batch.context.js';
import { fieldsToObject, oversizeBytes, StreamMessageContext, type StreamEntry } from './stream-entry.js';
import { splitHeaderFields } from './stream-headers.js';
import { decodeJsonFields } from './stream-message.processor.js';
import type { StreamProcessorDeps } from './stream-processor.deps.js';
import { StreamFailurePath } from './stream-failure.path.js';
import type { StreamDeadLetterReason } from './stream.settler.js';

/** One entry of a batch that reaches the handler. */
interface BatchItem {
  entry: StreamEntry;
  payload: Record<string, unknown>;
  context: StreamMessageContext;
}

/**
 * Runs a batch `@StreamConsumer` (`batch` option): gathers entries into
 * batches, reads each (an entry delivered too often, too large or with an
 * unparsable JSON field is dead-lettered on its own, the rest of its batch
 * runs), calls the handler once with the payloads, then acks the batch
 * (one `XACK` per key), or leaves each failed entry pending for its
 * redelivery, or dead-letters it, as a one-entry handler would. Never throws.
 */
export class StreamBatchProcessor {
  private readonly logger = new Logger(StreamBatchProcessor.name);
  private readonly collector: BatchCollector<StreamEntry>;
  private readonly source: string;
  private readonly where: string;
  /** Acks sent with their batch's slots already freed. */
  private readonly acksInFlight = new Set<Promise<void>>();
  private acking = 0;
  /** One CONSUMER span per batch run (docs/tracing.md, "Batches"). */
  private readonly tracing: BatchTracing;
  /** Redelivery, dead letter or hand-back of each failed entry, as for a one-entry handler. */
  private readonly failures: StreamFailurePath;

  constructor(
    private readonly deps: StreamProcessorDeps,
    batch: ResolvedBatchOptions,
    /** Most acked entries outstanding with their slots freed (the loop's window). */
    private readonly maxAcking: number,
  ) {
    this.source = `${deps.stream}/${deps.group}`;
    this.where = `stream "${deps.stream}" group "${deps.group}"`;
    this.tracing = new BatchTracing({ destination: deps.stream, group: deps.group, clientId: deps.consumer });
    this.failures = new StreamFailurePath(deps, this.tracing, this.logger);
    this.collector = new BatchCollector(batch.size, batch.maxWaitMs, (entries) => this.runBatch(entries));
  }

  /** Resolves when the entry's batch is settled, or its ack is on its way. */
  process(entry: StreamEntry): Promise<void> {
    // An entry taken over from a consumer presumed dead may be what killed it: it runs as a batch of its own.
    return this.collector.add(entry, entry.takenOver === true);
  }

  /** Shutdown: what is gathered runs now, without waiting for a full batch. */
  stopWaiting(): void {
    this.collector.close();
  }

  /** Resolves once every ack sent so far has returned (or was given up). */
  async drain(): Promise<void> {
    while (this.acksInFlight.size > 0) await Promise.all(this.acksInFlight);
  }

  private async runBatch(entries: StreamEntry[]): Promise<void> {
    const { deps } = this;
    const items: BatchItem[] = [];
    const refused: Promise<void>[] = [];
    const timed = deps.signals.prepare();
    const signal = timed?.signal ?? deps.signals.shared;
    for (const entry of entries) {
      const item = this.read(entry, signal);
      if ('reason' in item) refused.push(this.failures.settle(entry, () => this.failures.deadLetter(entry, item.reason, item.error)));
      else items.push(item);
    }
    if (refused.length > 0) await Promise.all(refused);
    if (items.length === 0) return;
    for (const { entry, context } of items) {
      if (entry.takenOver === true) deps.events.emit('reclaimed', { kind: 'stream', source: this.source, handler: deps.handler, count: 1, from: undefined, context });
    }
    const context = new StreamBatchContext(deps.stream, deps.group, deps.consumer, items.map((i) => i.context), signal);
    const started = performance.now();
    // Tracing: a span around the batch's run, undefined when no tracer provider is registered.
    const traced = this.tracing.start(items, describeItem);
    const payloads = items.map((i) => i.payload);
    let failures: unknown[] | undefined;
    let timedOut = false;
    try {
      let result = traced ? traced.run(deps.invoke, payloads, context) : deps.invoke(payloads, context);
      if (isThenable(result)) result = await (timed ? timed.race(result, (error) => this.late(items.length, error)) : result);
      const verdict = batchFailures(result, items.length);
      if (verdict.error) traced?.threw(verdict.error);
      failures = verdict.error ? new Array<unknown>(items.length).fill(verdict.error) : verdict.failures;
    } catch (error) {
      traced?.threw(error);
      failures = new Array<unknown>(items.length).fill(error);
      timedOut = timed?.timedOut === true;
    }
    // finally: a hook that throws from an event must not leave the span open.
    try { await this.settleBatch(items, failures, performance.now() - started, timedOut); } finally { traced?.end(failures); }
  }

  /** The item the handler gets, or why the entry cannot reach it. */
  private read(entry: StreamEntry, signal: AbortSignal): BatchItem | { reason: StreamDeadLetterReason; error: string } {
    const { options, stream, group, consumer } = this.deps;
    if (entry.deliveries > options.maxDeliveries) {
      // Delivered that often without a verdict: its consumers crashed or stalled on it.
      return { reason: 'max-deliveries', error: `delivered ${entry.deliveries} times without being acknowledged` };
    }
    const size = oversizeBytes(entry.fields, options.maxMessageBytes);
    if (size > 0) return { reason: 'too-large', error: `entry is ${size} bytes; maxMessageBytes is ${options.maxMessageBytes}` };
    const fields = fieldsToObject(entry.fields);
    const split = splitHeaderFields(fields);
    const strings = split ? split.payload : fields;
    let payload: Record<string, unknown> = strings;
    if (options.parse === 'json-fields') {
      const decoded = decodeJsonFields(strings);
      if (typeof decoded === 'string') return { reason: 'unparsable', error: decoded };
      payload = decoded;
    }
    const context = new StreamMessageContext(entry.id, stream, group, consumer, entry.deliveries, fields, entry.requeued, Date.now(), signal, split?.headers);
    return { entry, payload, context };
  }

  /** `failures[i]`: what item i failed with, undefined when it succeeded (`failures` undefined: all did). */
  private async settleBatch(items: BatchItem[], failures: unknown[] | undefined, durationMs: number, timedOut: boolean): Promise<void> {
    const { deps } = this;
    const report = deps.events.listenerCount('handled') > 0;
    const acked: StreamEntry[] = [];
    const failing: Promise<void>[] = [];
    for (let i = 0; i < items.length; i += 1) {
      const { entry, context } = items[i];
      const failure = failures?.[i];
      if (failure !== undefined) {
        failing.push(this.failures.settle(entry, () => this.failures.failed(entry, context, failure, durationMs, timedOut)));
        continue;
      }
      if (report) deps.events.emit('handled', {
        kind: 'stream', source: this.source, handler: deps.handler, durationMs, waitMs: waitMs(entryIdTime(entry.id), durationMs), context,
      });
      acked.push(entry);
    }
    // One XACK for the batch's successes (two when requeued entries are among them).
    const acking = this.trackAcks(acked);
    await Promise.all(failing);
    if (acking) await acking;
  }

  /** Sends the acks; undefined when they are on their way and the slots may be freed already. */
  private trackAcks(entries: StreamEntry[]): Promise<void> | undefined {
    if (entries.length === 0) return undefined;
    const count = entries.length;
    this.acking += count;
    const sent = this.failures.settleAll(entries, () => this.deps.settler.ackAll(entries)).then(() => {
      this.acking -= count;
      this.acksInFlight.delete(sent);
    });
    this.acksInFlight.add(sent);
    return this.acking > this.maxAcking ? sent : undefined;
  }

  private late(size: number, error: unknown): void {
    const { deps } = this;
    const outcome = error === undefined ? 'succeeded' : `failed: ${errorText(error)}`;
    this.logger.warn(messages.lateHandlerResult(deps.handler, this.where, `(a batch of ${size})`, deps.signals.timeoutMs, outcome));
  }
}

/** What a batch span records of one of its entries (see `BatchTracing.start`). */
function describeItem(context: StreamMessageContext): ProcessMessage {
  return { id: context.id, carrier: context.headers };
}
