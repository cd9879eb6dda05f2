import { IntrinsicException, Logger } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
} from '@nestjs/common/constants.js';
import type { ExternalContextCreator } from '@nestjs/core';
import type { ApplicationConfig } from '@nestjs/core/application-config.js';
import { getClassRef } from '@nestjs/core/helpers/class-ref-registry.js';
import type { ParamsFactory } from '@nestjs/core/helpers/external-context-creator.js';
import { isObservable, lastValueFrom } from 'rxjs';
import { BROKER_CONTEXT_TYPE, BROKER_PARAM_ARGS_METADATA } from '../core/constants.js';
import { isThenable } from '../runtime/thenable.js';
import type { HandlerInvoker } from './handler-descriptor.js';
import { brokerParamExtractor, type ParamExtractor } from './broker-params.js';

type Method = (...args: unknown[]) => unknown;

/** The parts of Nest's container the enhancer check reads; absent on an unexpected Nest build. */
interface ContainerView {
  container?: { applicationConfig?: ApplicationConfig };
}

/** Same logger context as Nest's `ExternalExceptionFilter`, which logs an unfiltered handler error. */
const unfilteredErrorLogger = new Logger('ExceptionsHandler');

/**
 * Whether no guard, interceptor, pipe or exception filter can apply to this
 * handler: none global (`useGlobal*` or `APP_*` providers, static or request
 * scoped), none on its class or method. Answers false when Nest's
 * application config cannot be read, so the full pipeline is used.
 */
function hasNoEnhancers(creator: ExternalContextCreator, instance: object, method: Method): boolean {
  const config = (creator as unknown as ContainerView).container?.applicationConfig;
  if (!config) return false;
  const globals = [
    config.getGlobalGuards(),
    config.getGlobalRequestGuards(),
    config.getGlobalInterceptors(),
    config.getGlobalRequestInterceptors(),
    config.getGlobalPipes(),
    config.getGlobalRequestPipes(),
    config.getGlobalFilters(),
    config.getGlobalRequestFilters(),
  ];
  if (globals.some((list) => list.length > 0)) return false;
  // Nest reads class enhancers from the registered class, which a mixin or a
  // Proxy-returning class decorator may hide behind `constructor`: check both.
  const hosts: object[] = [getClassRef(instance), instance.constructor, method];
  for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA]) {
    for (const host of hosts) {
      const value = Reflect.getMetadata(key, host) as unknown;
      if (Array.isArray(value) ? value.length > 0 : value !== undefined) return false;
    }
  }
  return true;
}

/**
 * For a handler that no Nest enhancer applies to, a call that skips Nest's
 * pipeline (guards, rxjs interceptor chain, pipes, filter proxy: several
 * promises per message) yet behaves the same: the same argument mapping
 * (`@Payload(path)` / `@Ctx()`, or `(payload, context)` without them), an
 * Observable result awaited to its last value, and an error logged under
 * `ExceptionsHandler` and rethrown as Nest's default filter does. A
 * synchronous handler's result is returned as is, without a promise. Returns
 * undefined when anything may apply (a pipe on a parameter included); the
 * caller then keeps the full pipeline.
 */
export function createDirectHandlerCall(
  creator: ExternalContextCreator,
  instance: object,
  methodName: string,
  method: Method,
  paramsFactory: ParamsFactory,
): HandlerInvoker | undefined {
  if (!hasNoEnhancers(creator, instance, method)) return undefined;
  const { argsLength, getParamsMetadata } = creator.getMetadata(instance, methodName, BROKER_PARAM_ARGS_METADATA, paramsFactory, BROKER_CONTEXT_TYPE);
  const params = (getParamsMetadata('') ?? []).map((param) => ({
    index: param.index,
    pipes: param.pipes,
    extract: brokerParamExtractor(param.type, param.data) ?? (param.extractValue as ParamExtractor),
  }));
  if (params.some((param) => param.pipes.length > 0)) return undefined;
  const call = callShape(instance, method, params, argsLength);
  return (payload, context) => {
    let result: unknown;
    try {
      result = call(payload, context);
    } catch (error) {
      logUnfiltered(error);
      throw error;
    }
    if (isObservable(result)) result = lastValueFrom(result);
    if (!isThenable(result)) return result;
    return Promise.resolve(result).catch((error: unknown) => {
      logUnfiltered(error);
      throw error;
    });
  };
}

/**
 * The method called with its arguments mapped from `(payload, context)`: no
 * argument array for the common shapes (no decorated parameter, or one).
 */
function callShape(
  instance: object,
  method: Method,
  params: readonly { index: number; extract: ParamExtractor }[],
  argsLength: number,
): (payload: unknown, context: object) => unknown {
  if (params.length === 0) return (payload, context) => method.call(instance, payload, context);
  if (params.length === 1 && argsLength === 1 && params[0].index === 0) {
    const { extract } = params[0];
    return (payload, context) => method.call(instance, extract(payload, context));
  }
  return (payload, context) => {
    const args = new Array<unknown>(argsLength).fill(undefined);
    for (const param of params) args[param.index] = param.extract(payload, context);
    return method.apply(instance, args);
  };
}

/** Logs an error as Nest's default filter does (intrinsic exceptions stay quiet). */
function logUnfiltered(error: unknown): void {
  if (error instanceof Error && !(error instanceof IntrinsicException)) unfilteredErrorLogger.error(error);
}
