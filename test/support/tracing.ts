import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** A registered tracer provider whose finished spans land in `exporter`. */
export interface InstalledTracing {
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  /** Unregisters the provider, propagator and context manager (`trace.disable()` and the like). */
  uninstall(): void;
}

/**
 * Registers what an app registers to trace: a provider (every span sampled)
 * with an in-memory exporter, async-hooks context and the W3C propagator.
 * `also`: another exporter fed the same spans (a worker printing them).
 */
export function installTracing(also?: SpanExporter): InstalledTracing {
  const exporter = new InMemorySpanExporter();
  const spanProcessors = [new SimpleSpanProcessor(exporter)];
  if (also) spanProcessors.push(new SimpleSpanProcessor(also));
  const provider = new BasicTracerProvider({ spanProcessors });
  context.setGlobalContextManager(new AsyncHooksContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    provider,
    uninstall: () => {
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** A finished span as plain JSON: what a worker process prints for the test to read. */
export interface SpanRecord {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: string[];
  links: { traceId: string; spanId: string }[];
}

export function spanRecord(span: ReadableSpan): SpanRecord {
  const { traceId, spanId } = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    attributes: { ...span.attributes },
    status: { ...span.status },
    events: span.events.map((event) => event.name),
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
  };
}

/** The finished spans named `name`, as records, in the order they ended. */
export function spansNamed(exporter: InMemorySpanExporter, name: string): SpanRecord[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name).map(spanRecord);
}
