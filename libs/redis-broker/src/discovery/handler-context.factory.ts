import { Injectable, type ParamData } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import type { ParamsFactory } from '@nestjs/core/helpers/external-context-creator.js';
import { BROKER_CONTEXT_TYPE, BROKER_PARAM_ARGS_METADATA } from '../core/constants.js';
import { brokerParamExtractor } from './broker-params.js';
import { createDirectHandlerCall } from './direct-handler-call.js';
import type { HandlerInvoker } from './handler-descriptor.js';

/** Resolves `@Payload(path)` and `@Ctx()` from a handler call's `(payload, context)` arguments. */
class BrokerParamsFactory implements ParamsFactory {
  exchangeKeyForValue(type: number, data: ParamData | undefined, args: unknown[]): unknown {
    return brokerParamExtractor(type, data)?.(args[0], args[1]);
  }
}

/**
 * Wraps a handler method with Nest's `ExternalContextCreator`, so global and
 * method-level guards, interceptors, pipes and exception filters apply to
 * messages as they do to HTTP requests. `ExecutionContext#getType()` is
 * `'redis-broker'`; `switchToRpc().getData()` is the payload and
 * `getContext()` the message context. A handler that no enhancer can apply
 * to is called directly instead, with the same behaviour (see
 * `createDirectHandlerCall`): the pipeline costs several promises per message.
 */
@Injectable()
export class HandlerContextFactory {
  private readonly paramsFactory = new BrokerParamsFactory();

  constructor(private readonly externalContextCreator: ExternalContextCreator) {}

  create(instance: object, methodName: string): HandlerInvoker {
    const method = (instance as Record<string, (...args: unknown[]) => unknown>)[methodName];
    if (typeof method !== 'function') throw new TypeError(`${methodName} is not a method`);
    // Made even when the direct call is used: Nest's create-time checks and warnings still run.
    const callable = this.externalContextCreator.create(
      instance,
      method,
      methodName,
      BROKER_PARAM_ARGS_METADATA,
      this.paramsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: true },
      BROKER_CONTEXT_TYPE,
    );
    const direct = createDirectHandlerCall(this.externalContextCreator, instance, methodName, method, this.paramsFactory);
    if (direct) return direct;
    return (payload, context) => callable(payload, context) as Promise<unknown>;
  }
}
