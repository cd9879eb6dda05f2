// The tracing variants of nrb-reliable (scenario `tracing`), set up in each
// process before the library sends or handles its first message (it loads
// @opentelemetry/api on first use): `nrb-otel-absent` makes the api
// unresolvable, as in an app that does not install it; `nrb-otel-unsampled`
// registers a provider that samples nothing (spans are made, not recorded;
// the context is still written into each message); `nrb-otel-recording`
// records every span (dropped at its end, no exporter: the cost measured is
// the library's and the SDK's, not an exporter's). Both use AsyncLocalStorage
// context, as NodeTracerProvider.register() does. Plain `nrb-reliable` has
// the api installed and no provider: tracing off.
import Module from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SystemId } from '../protocol.js';

type Resolver = (request: string, ...rest: unknown[]) => string;

export function prepareTracing(system: SystemId): void {
  if (system === 'nrb-otel-absent') hideOtelApi();
  else if (system === 'nrb-otel-unsampled' || system === 'nrb-otel-recording') {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const sampler = system === 'nrb-otel-recording' ? new AlwaysOnSampler() : new AlwaysOffSampler();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler, spanProcessors: [new NoopSpanProcessor()] }));
  }
}

/** Makes `require('@opentelemetry/api')` fail, as the library sees it when the optional peer is not installed. */
function hideOtelApi(): void {
  const internals = Module as unknown as { _resolveFilename: Resolver };
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (this: unknown, request, ...rest) {
    if (request === '@opentelemetry/api') throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
    return resolve.call(this, request, ...rest);
  };
}
