import type { Attributes, Context, Link, Span, SpanOptions } from '@opentelemetry/api';
import { MessagingAttr, systemAttributes } from './messaging-attributes.js';
import { activeTracer, otelApi, type OtelApi } from './otel-api.js';
import { recordFailure } from './span-errors.js';

/** Where a consumer's messages come from, for its spans. */
export interface ProcessSource {
  /** The queue, stream or channel, without the key prefix. */
  destination: string;
  /** The stream's consumer group. */
  group?: string;
  /** This consumer's id (`messaging.client.id`). */
  clientId?: string;
  /**
   * How a message's trace context is used: `parent` (queues and streams: the
   * span continues the producer's trace, and links to it as the conventions
   * ask), or `link` (pub/sub: one publish fans out to every listener, each
   * run starts a trace of its own linked to the publisher's).
   */
  relation: 'parent' | 'link';
}

/** One message to process, as its span sees it. */
export interface ProcessMessage {
  /** Its id (`messaging.message.id`); a pub/sub message has none. */
  id?: string;
  /** Queue attempt or stream delivery count, 1 on the first run. */
  attempt?: number;
  /** The message's headers (or published object) that may carry a trace context. */
  carrier?: Readonly<Record<string, unknown>>;
  /** A pattern listener's pattern: the span is named after it (low cardinality) and it is `messaging.destination.template`. */
  template?: string;
  /** The channel it came on, when it differs from the source's destination (a pattern listener). */
  destination?: string;
}

/** How a failed run was settled, recorded on its span. */
export type ProcessVerdict =
  | { retryDelayMs: number }
  | { deadLetter: string }
  | { handedBack: true };

/** Where a failed run's verdict is recorded: its span (one per message, or the batch's). */
export interface FailureTracing {
  failed(key: object, error: unknown, verdict: ProcessVerdict): void;
}

/** A started run: its span's context, to run the handler in. */
export interface ProcessRun {
  /** Calls `fn(a, b)` with the span active, so the handler's own spans are its children. */
  run<A, B, R>(fn: (a: A, b: B) => R, a: A, b: B): R;
}

/**
 * The CONSUMER spans of one consumer: `process <destination>`, one per run
 * (each attempt of a message is a run). `start` is the only call made when no
 * tracer provider is registered, and then returns undefined at the cost of
 * one lookup; the others return at once while no span is open. A span ends
 * when the run's verdict is known (handled, retried, dead-lettered, handed
 * back at shutdown), before that verdict is written to Redis.
 */
export class ProcessTracing {
  /** Open spans by run key (the run's context object). */
  private readonly open = new Map<object, Span>();
  private readonly base: Attributes;
  private readonly name: string;

  constructor(private readonly source: ProcessSource) {
    this.base = systemAttributes('process', source.destination);
    if (source.group !== undefined) this.base[MessagingAttr.consumerGroup] = source.group;
    if (source.clientId !== undefined) this.base[MessagingAttr.clientId] = source.clientId;
    this.name = `process ${source.destination}`;
  }

  /**
   * Starts the span of one run keyed by `key` (ended by `succeeded` or
   * `failed` with the same key); undefined when tracing is off. `describe`
   * (a function made once, not per message) tells what the span needs of the
   * message: nothing is built for it while tracing is off.
   */
  start<K extends object, X>(key: K, describe: (key: K, extra: X) => ProcessMessage, extra: X): ProcessRun | undefined {
    const tracer = activeTracer();
    if (tracer === undefined) return undefined;
    const api = otelApi()!;
    const message = describe(key, extra);
    const attributes: Attributes = { ...this.base };
    if (message.id !== undefined) attributes[MessagingAttr.messageId] = message.id;
    if (message.attempt !== undefined) attributes[MessagingAttr.deliveryAttempt] = message.attempt;
    if (message.destination !== undefined) attributes[MessagingAttr.destinationName] = message.destination;
    if (message.template !== undefined) attributes[MessagingAttr.destinationTemplate] = message.template;
    const { parent, links } = this.creation(api, message.carrier);
    const options: SpanOptions = { kind: api.SpanKind.CONSUMER, attributes, links };
    const name = message.template === undefined ? this.name : `process ${message.template}`;
    const span = tracer.startSpan(name, options, parent);
    this.open.set(key, span);
    const active = api.trace.setSpan(parent, span);
    return { run: (fn, a, b) => api.context.with(active, fn, undefined, a, b) };
  }

  /** Ends the run's span: handled. */
  succeeded(key: object): void {
    if (this.open.size === 0) return;
    const span = this.open.get(key);
    if (span === undefined) return;
    this.open.delete(key);
    span.setAttribute(MessagingAttr.settlement, 'ack');
    span.end();
  }

  /** Ends the run's span: failed with `error`, settled by `verdict` (none for pub/sub, which has no settlement). */
  failed(key: object, error: unknown, verdict?: ProcessVerdict): void {
    if (this.open.size === 0) return;
    const span = this.open.get(key);
    if (span === undefined) return;
    this.open.delete(key);
    const api = otelApi()!;
    recordFailure(api, span, error);
    if (verdict !== undefined) span.setAttributes(verdictAttributes(verdict));
    span.end();
  }

  /**
   * The span's parent and links from a message's trace context: none (a new
   * trace) when it carries none. Extracted over the root context, never the
   * consumer loop's: a message without context must not join whatever trace
   * happened to be active when the loop started.
   */
  private creation(api: OtelApi, carrier: Readonly<Record<string, unknown>> | undefined): { parent: Context; links: Link[] | undefined } {
    const root = api.ROOT_CONTEXT;
    if (carrier === undefined) return { parent: root, links: undefined };
    const extracted = api.propagation.extract(root, carrier);
    const creation = api.trace.getSpanContext(extracted);
    if (creation === undefined || !api.trace.isSpanContextValid(creation)) return { parent: root, links: undefined };
    const links = [{ context: creation }];
    return this.source.relation === 'parent' ? { parent: extracted, links } : { parent: root, links };
  }
}

/** The settlement attributes of a failed run (also a batch's failed message, see `BatchTracing`). */
export function verdictAttributes(verdict: ProcessVerdict): Attributes {
  if ('retryDelayMs' in verdict) return { [MessagingAttr.settlement]: 'retry', [MessagingAttr.retryDelayMs]: verdict.retryDelayMs };
  if ('deadLetter' in verdict) return { [MessagingAttr.settlement]: 'dead_letter', [MessagingAttr.deadLetterReason]: verdict.deadLetter };
  return { [MessagingAttr.settlement]: 'handed_back' };
}
