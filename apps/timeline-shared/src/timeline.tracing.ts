// OpenTelemetry for the sample, on only when OTEL_EXPORTER_OTLP_ENDPOINT is
// set (e.g. http://127.0.0.1:4318): a Node tracer provider (async context, W3C
// propagation) exporting to it over OTLP/HTTP. nest-redis-broker then traces
// each send and handler run and carries the trace from the API to the worker
// (docs/tracing.md). The SDK packages are imported only then: without the
// variable nothing of them loads.

/** Flushes and stops the exporter. */
export type StopTracing = () => Promise<void>;

/** Export batches at least this often: a sample wants its traces promptly. */
const EXPORT_DELAY_MS = 1_000;

/**
 * Starts tracing when `env.OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter
 * reads it, and the other `OTEL_EXPORTER_OTLP_*` variables, itself); returns
 * how to stop it, or undefined when tracing stays off. `service`: the
 * `service.name` unless `OTEL_SERVICE_NAME` is set.
 */
export async function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Promise<StopTracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: EXPORT_DELAY_MS })],
  });
  provider.register();
  // Best effort at a signal: Nest's shutdown hooks run beside this and end the process when they are done.
  const flush = (): void => void provider.forceFlush().catch(() => undefined);
  process.once('SIGTERM', flush);
  process.once('SIGINT', flush);
  return () => provider.shutdown();
}
