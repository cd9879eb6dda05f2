/** Flushes and stops the exporter. */
export type StopTracing = () => Promise<void>;
/**
 * Starts tracing when `env.OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter
 * reads it, and the other `OTEL_EXPORTER_OTLP_*` variables, itself); returns
 * how to stop it, or undefined when tracing stays off. `service`: the
 * `service.name` unless `OTEL_SERVICE_NAME` is set.
 */
export declare function startTracing(service: string, env?: NodeJS.ProcessEnv): Promise<StopTracing | undefined>;
