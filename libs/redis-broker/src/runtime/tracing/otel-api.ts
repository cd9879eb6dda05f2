import { createRequire } from 'node:module';
import { Logger } from '@nestjs/common';
import type * as OtelApiModule from '@opentelemetry/api';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { errorText } from '../../core/error-text.js';

/** `@opentelemetry/api`'s exports (types only here: the package is an optional peer, loaded by `otelApi`). */
export type OtelApi = typeof OtelApiModule;

/** The tracer's name (`otel.scope.name` of every span this library makes). */
export const TRACER_NAME = 'nest-redis-broker';

/** The api's global provider before a real one is registered: a proxy whose delegate is unset. */
interface ProxyTracerProviderLike extends TracerProvider {
  getDelegateTracer?(name: string): Tracer | undefined;
}

/** undefined: not tried yet; null: not installed (or broken), so tracing stays off for the process's life. */
let loaded: OtelApi | null | undefined;

/**
 * The api, required once on first use: the library is ESM and also loaded by
 * `require()` from CommonJS apps, and a missing optional peer must not fail
 * either. Every copy of the api (ESM, CommonJS, another version) shares one
 * global registry, so the provider an app registers is seen here.
 */
export function otelApi(): OtelApi | undefined {
  if (loaded === undefined) loaded = loadApi();
  return loaded ?? undefined;
}

function loadApi(): OtelApi | null {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
  } catch (error) {
    // Not installed is the ordinary case of an optional peer: tracing is simply off.
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') {
      new Logger('Tracing').warn(`@opentelemetry/api could not be loaded, tracing is off: ${errorText(error)}`);
    }
    return null;
  }
}

/**
 * The library's tracer, or undefined when the api is not installed or no
 * tracer provider is registered. Asked once per message: with nothing
 * registered it costs a global lookup and one call, and makes nothing. Not
 * cached: an app may register (or `trace.disable()`) its provider at any time,
 * and through its own copy of the api.
 */
export function activeTracer(): Tracer | undefined {
  const api = loaded === undefined ? otelApi() : loaded;
  if (!api) return undefined;
  const provider = api.trace.getTracerProvider() as ProxyTracerProviderLike;
  return typeof provider.getDelegateTracer === 'function' ? provider.getDelegateTracer(TRACER_NAME) : provider.getTracer(TRACER_NAME);
}
