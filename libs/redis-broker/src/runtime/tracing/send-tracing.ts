import type { Attributes, Context, Link, Tracer } from '@opentelemetry/api';
import { MessagingAttr, systemAttributes } from './messaging-attributes.js';
import { otelApi, type OtelApi } from './otel-api.js';
import { recordFailure } from './span-errors.js';

/** One send to trace (see `traceSend`). */
export interface SendSpec {
  /** The queue, stream or channel name, without the key prefix. */
  destination: string;
  /** The message's id when known before the write (a queue envelope's). */
  messageId?: string;
  /** Messages written by one call (`enqueueMany`, `appendMany`, `publishMany`). */
  batchCount?: number;
  /**
   * What the caller's message already carries: its headers, or the object
   * published. When it holds a field the registered propagator writes
   * (`traceparent`, `tracestate`), that context is the user's and is kept.
   */
  carrier?: unknown;
}

/** Trace fields to add to a message: what the registered propagator wrote (`traceparent`, `tracestate`). */
export type TraceFields = Record<string, string>;

/**
 * Runs `write` inside a span named `send <destination>` and ends the span
 * when the write settles (status ERROR and the exception when it rejects).
 * `write` gets the fields that carry the span's context to the consumer, or
 * undefined when none are to be written:
 * - the caller's carrier has a trace context of its own: it is not modified;
 *   the span is then a CLIENT span linked to that context (the conventions'
 *   rule for a user-provided creation context);
 * - the span's context is not valid (a no-op provider): nothing to carry.
 * Otherwise the span is the message's creation context: kind PRODUCER.
 * `idOf`: the message id once it is known from the write's result (a stream
 * entry's id).
 */
export function traceSend<T>(
  tracer: Tracer,
  spec: SendSpec,
  write: (fields: TraceFields | undefined) => Promise<T>,
  idOf?: (result: T) => string | undefined,
): Promise<T> {
  const api = otelApi()!;
  const attributes: Attributes = systemAttributes('send', spec.destination);
  if (spec.messageId !== undefined) attributes[MessagingAttr.messageId] = spec.messageId;
  if (spec.batchCount !== undefined) attributes[MessagingAttr.batchCount] = spec.batchCount;
  const own = ownContext(api, spec.carrier);
  const active = api.context.active();
  const span = tracer.startSpan(`send ${spec.destination}`, {
    kind: own ? api.SpanKind.CLIENT : api.SpanKind.PRODUCER,
    attributes,
    links: own,
  }, active);
  const spanContext = api.trace.setSpan(active, span);
  let fields: TraceFields | undefined;
  if (!own && api.trace.isSpanContextValid(span.spanContext())) {
    const carrier: TraceFields = {};
    api.propagation.inject(spanContext, carrier);
    for (const _ in carrier) {
      fields = carrier;
      break;
    }
  }
  let written: Promise<T>;
  try {
    written = api.context.with(spanContext, write, undefined, fields);
  } catch (error) {
    recordFailure(api, span, error);
    span.end();
    throw error;
  }
  return written.then(
    (result) => {
      const id = idOf?.(result);
      if (id !== undefined) span.setAttribute(MessagingAttr.messageId, id);
      span.end();
      return result;
    },
    (error: unknown) => {
      recordFailure(api, span, error);
      span.end();
      throw error;
    },
  );
}

/**
 * `headers` with the trace fields added (the caller's object is not
 * changed); headers that are not an object are returned as they are, for the
 * option's validation to refuse.
 */
export function withTraceFields(headers: Record<string, string> | undefined, fields: TraceFields | undefined): Record<string, string> | undefined {
  if (fields === undefined || (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers)))) return headers;
  return { ...headers, ...fields };
}

/**
 * When the caller's carrier holds a field the registered propagator writes
 * (baggage aside, which is not a trace context): the links to its context,
 * none when it does not parse (still the user's, kept as it is). Undefined
 * when the carrier holds no trace context.
 */
function ownContext(api: OtelApi, carrier: unknown): Link[] | undefined {
  if (typeof carrier !== 'object' || carrier === null || Array.isArray(carrier)) return undefined;
  const record = carrier as Record<string, unknown>;
  const has = api.propagation.fields().some((field) => field !== 'baggage' && typeof record[field] === 'string');
  if (!has) return undefined;
  const context: Context = api.propagation.extract(api.ROOT_CONTEXT, record);
  const spanContext = api.trace.getSpanContext(context);
  return spanContext && api.trace.isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
}
