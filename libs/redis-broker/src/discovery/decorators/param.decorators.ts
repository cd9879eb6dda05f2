import type { PipeTransform, Type } from '@nestjs/common';
import { BROKER_PARAM_ARGS_METADATA } from '../../core/constants.js';

/**
 * The kinds of values a broker handler parameter can receive. The numbers
 * are Nest's: pipes see 3 as `type: 'body'` (so `ValidationPipe` validates
 * payloads as it does request bodies) and 6 as `'custom'`.
 */
export enum BrokerParamType {
  PAYLOAD = 3,
  CONTEXT = 6,
}

type ParamPipe = Type<PipeTransform> | PipeTransform;

function brokerParam(type: BrokerParamType, data: string | undefined, pipes: ParamPipe[]): ParameterDecorator {
  // Nest's scanner registers pipe classes only for HTTP route parameters; a
  // class given here is instantiated once, without constructor arguments.
  const instances = pipes.map((pipe) => (typeof pipe === 'function' ? new pipe() : pipe));
  return (target, key, index) => {
    if (key === undefined) return;
    const existing = (Reflect.getMetadata(BROKER_PARAM_ARGS_METADATA, target.constructor, key) ?? {}) as Record<string, unknown>;
    Reflect.defineMetadata(
      BROKER_PARAM_ARGS_METADATA,
      { ...existing, [`${type}:${index}`]: { index, data, pipes: instances } },
      target.constructor,
      key,
    );
  };
}

/**
 * Injects the message payload, or the value at `property` (a dot path such as
 * `'user.id'`) inside it. Pipes given here, and global pipes such as
 * `ValidationPipe`, run on it; a pipe that rejects the payload with
 * `BadRequestException` sends the message to the dead-letter place at once.
 * A pipe given as a class is instantiated once without constructor arguments
 * (pass an instance when it needs some).
 *
 * @example `handle(@Payload() dto: CreatePostDto)` or `handle(@Payload('userId') id: string)`
 * @publicApi
 */
export function Payload(property?: string | ParamPipe, ...pipes: ParamPipe[]): ParameterDecorator {
  if (property !== undefined && typeof property !== 'string') return brokerParam(BrokerParamType.PAYLOAD, undefined, [property, ...pipes]);
  return brokerParam(BrokerParamType.PAYLOAD, property, pipes);
}

/**
 * Injects the message context: for queues a {@link QueueMessageContext} (id,
 * queue, attempt, raw text, consumer); for streams a {@link StreamMessageContext}
 * (entry id, stream, group, consumer, delivery count, raw fields); for channels a
 * {@link ChannelMessageContext} (channel, pattern, sharded, raw text, receive time).
 * @publicApi
 */
export function Ctx(): ParameterDecorator {
  return brokerParam(BrokerParamType.CONTEXT, undefined, []);
}

/**
 * `Payload` under a name that does not collide with `@nestjs/microservices`'
 * own `Payload` in a hybrid app: the same decorator, for `@QueueHandler`,
 * `@StreamConsumer` and `@OnChannel` handlers.
 * @publicApi
 */
export const BrokerPayload = Payload;

/**
 * `Ctx` under a name that does not collide with `@nestjs/microservices`'
 * own `Ctx` in a hybrid app: the same decorator.
 * @publicApi
 */
export const BrokerCtx = Ctx;
