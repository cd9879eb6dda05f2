import type { Attributes, Link, Span } from '@opentelemetry/api';
import { errorText } from '../../core/error-text.js';
import { errorType, MessagingAttr, systemAttributes } from './messaging-attributes.js';
import { activeTracer, otelApi, type OtelApi } from './otel-api.js';
import { verdictAttributes, type ProcessMessage, type ProcessSource, type ProcessVerdict } from './process-tracing.js';
import { recordFailure } from './span-errors.js';

/** Attributes of a batch run's span that are this library's own (`messaging.redis.`). */
export const BatchAttr = {
  /** How many of the batch's messages failed (a thrown batch: all of them). */
  failedCount: 'messaging.redis.batch.failed_count',
  /** The event recorded for each failed message, with its index, id, error and settlement. */
  messageFailed: 'messaging.redis.batch.message_failed',
  /** The failed message's position in the handler's payload array, on a `messageFailed` event. */
  index: 'messaging.redis.batch.index',
} as const;

/** Where a batch's messages come from: a `ProcessSource` without its relation (a batch span has no parent). */
export type BatchSource = Omit<ProcessSource, 'relation'>;

/** A started batch run: its span, to run the handler in and to end once the batch is settled. */
export interface BatchRun {
  /** Calls `fn(a, b)` with the span active, so the handler's own spans are its children. */
  run<A, B, R>(fn: (a: A, b: B) => R, a: A, b: B): R;
  /** The whole batch failed (the handler threw, timed out or returned a bad `BatchResult`): the exception and status ERROR. */
  threw(error: unknown): void;
  /**
   * Ends the span once the batch's messages are settled: `failures[i]` is
   * what message i failed with (undefined: every message succeeded).
   */
  end(failures: readonly unknown[] | undefined): void;
}

/** One open batch span and what its failed messages were settled with. */
interface OpenBatch {
  span: Span;
  /** Position of each message in the batch, by its key. */
  index: Map<object, number>;
  ids: (string | undefined)[];
  /** The settlements recorded so far (`ack` for the messages that succeeded is added at the end). */
  settlements: Set<string>;
}

/**
 * The CONSUMER spans of a batch handler: one `process <destination>` span per
 * batch run, with `messaging.batch.message_count`, no parent (a batch has as
 * many producers as messages) and one link per message that carries a trace
 * context, as the messaging conventions ask for batch processing. `start` is
 * the only call made when no tracer provider is registered, and then returns
 * undefined at the cost of one lookup; `failed` returns at once while no
 * batch span is open.
 *
 * Each failed message gets an event (`messaging.redis.batch.message_failed`)
 * with its index, id, error and settlement; the span's
 * `messaging.redis.settlement` is the batch's one settlement when all its
 * messages share it, else `mixed`.
 */
export class BatchTracing {
  /** Open batches by message key (each message's context object). */
  private readonly open = new Map<object, OpenBatch>();
  private readonly base: Attributes;
  private readonly name: string;

  constructor(source: BatchSource) {
    this.base = systemAttributes('process', source.destination);
    if (source.group !== undefined) this.base[MessagingAttr.consumerGroup] = source.group;
    if (source.clientId !== undefined) this.base[MessagingAttr.clientId] = source.clientId;
    this.name = `process ${source.destination}`;
  }

  /**
   * Starts the span of one batch run; undefined when tracing is off. Each
   * item's `context` identifies its message in later `failed` calls;
   * `describe` (a function made once, not per batch) tells what the span
   * needs of a message.
   */
  start<C extends object>(items: readonly { context: C }[], describe: (context: C) => ProcessMessage): BatchRun | undefined {
    const tracer = activeTracer();
    if (tracer === undefined) return undefined;
    const api = otelApi()!;
    const links: Link[] = [];
    const ids: (string | undefined)[] = [];
    const keys = items.map((item) => item.context);
    for (const key of keys) {
      const message = describe(key);
      ids.push(message.id);
      const link = linkTo(api, message);
      if (link !== undefined) links.push(link);
    }
    const attributes: Attributes = { ...this.base, [MessagingAttr.batchCount]: keys.length };
    const root = api.ROOT_CONTEXT;
    const span = tracer.startSpan(this.name, { kind: api.SpanKind.CONSUMER, attributes, links, root: true }, root);
    const batch: OpenBatch = { span, index: new Map(), ids, settlements: new Set() };
    keys.forEach((key, i) => {
      batch.index.set(key, i);
      this.open.set(key, batch);
    });
    const active = api.trace.setSpan(root, span);
    return {
      run: (fn, a, b) => api.context.with(active, fn, undefined, a, b),
      threw: (error) => recordFailure(api, span, error),
      end: (failures) => this.end(batch, keys, failures),
    };
  }

  /**
   * Records how one failed message of an open batch was settled: an event
   * with its index, id, error and verdict. Called where a one-message
   * handler's run span would end (`ProcessTracing.failed`).
   */
  failed(key: object, error: unknown, verdict: ProcessVerdict): void {
    if (this.open.size === 0) return;
    const batch = this.open.get(key);
    if (batch === undefined) return;
    const index = batch.index.get(key)!;
    const attributes: Attributes = {
      [BatchAttr.index]: index,
      [MessagingAttr.errorType]: errorType(error),
      'exception.message': errorText(error),
      ...verdictAttributes(verdict),
    };
    const id = batch.ids[index];
    if (id !== undefined) attributes[MessagingAttr.messageId] = id;
    batch.span.addEvent(BatchAttr.messageFailed, attributes);
    batch.settlements.add(String(attributes[MessagingAttr.settlement]));
  }

  private end(batch: OpenBatch, keys: readonly object[], failures: readonly unknown[] | undefined): void {
    for (const key of keys) this.open.delete(key);
    let failed = 0;
    if (failures !== undefined) for (const failure of failures) if (failure !== undefined) failed++;
    if (failed < keys.length) batch.settlements.add('ack');
    // A failed message whose settlement was never recorded (its write failed, or it ran out of time) is not guessed at.
    batch.span.setAttribute(BatchAttr.failedCount, failed);
    if (batch.settlements.size > 0) batch.span.setAttribute(MessagingAttr.settlement, batch.settlements.size === 1 ? [...batch.settlements][0] : 'mixed');
    batch.span.end();
  }
}

/** The link to a message's creation context, undefined when it carries none. Extracted over the root context. */
function linkTo(api: OtelApi, message: ProcessMessage): Link | undefined {
  if (message.carrier === undefined) return undefined;
  const creation = api.trace.getSpanContext(api.propagation.extract(api.ROOT_CONTEXT, message.carrier));
  if (creation === undefined || !api.trace.isSpanContextValid(creation)) return undefined;
  return message.id === undefined ? { context: creation } : { context: creation, attributes: { [MessagingAttr.messageId]: message.id } };
}
