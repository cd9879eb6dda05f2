import type { MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { NonRetryableError } from '../core/errors/non-retryable.error.js';
import { errorText } from '../core/error-text.js';
import { assertValidName } from '../core/keys.js';
import { expectRecord, fail } from '../core/options/option-checks.js';
import { resolveQueueHandlerOptions, resolveStreamConsumerOptions } from '../core/options/handler-options.validation.js';
import type { HandlerInvoker, QueueHandlerDescriptor, StreamHandlerDescriptor } from '../discovery/handler-descriptor.js';
import type { QueueMessageContext } from '../queue/queue-delivery.js';
import type { StreamMessageContext } from '../stream/stream-entry.js';
import { RedisBrokerContext } from './redis-broker.context.js';
import { RpcErrorReply, rpcErrorText } from './rpc-error.wire.js';
import { eventTransportOf, type ResolvedServerOptions } from './transport-options.validation.js';

/** The stream field holding an emitted event's data, as JSON (see docs/microservices.md). */
export const STREAM_DATA_FIELD = 'data';

/**
 * The key of a pattern's extras holding its handler options:
 * `@EventPattern('x', { redisBroker: { maxAttempts: 5 } })`.
 */
export const HANDLER_OPTIONS_EXTRA = 'redisBroker';

type TransportDescriptor = QueueHandlerDescriptor | StreamHandlerDescriptor;

/**
 * Turns the handlers Nest registered on the server (`@MessagePattern` and
 * `@EventPattern` methods, each already wrapped in Nest's RPC pipeline:
 * guards, interceptors, pipes, filters, `@Payload()`/`@Ctx()`) into the
 * library's handler descriptors, so the same consumers, processors and
 * settlers run them as they run a `@QueueHandler` or `@StreamConsumer`.
 * Throws `InvalidBrokerOptionsError` for a pattern that is no queue or stream
 * name, or a stream-routed event without a `group`.
 */
export function describeTransportHandlers(handlers: ReadonlyMap<string, MessageHandler>, options: ResolvedServerOptions): TransportDescriptor[] {
  const { broker, routing, group } = options;
  const found: TransportDescriptor[] = [];
  for (const [pattern, handler] of handlers) {
    const isEvent = handler.isEventHandler === true;
    const target = `@${isEvent ? 'EventPattern' : 'MessagePattern'}(${pattern})`;
    assertValidName('pattern', pattern);
    const own = handlerOptionsOf(handler, target);
    if (isEvent && eventTransportOf(routing, pattern) === 'stream') {
      if (group === undefined) fail('group', group, `a consumer group name, since event pattern "${pattern}" routes to a stream`);
      found.push({
        kind: 'stream',
        stream: pattern,
        group,
        consumer: undefined,
        options: resolveStreamConsumerOptions(target, { ...own, parse: 'fields' }, broker.streamDefaults),
        target,
        invoke: invokerOf(handler, pattern, streamData, false),
      });
      continue;
    }
    found.push({
      kind: 'queue',
      queue: pattern,
      options: resolveQueueHandlerOptions(target, { ...own, parse: 'json' }, broker.queueDefaults),
      target,
      invoke: invokerOf(handler, pattern, (payload) => payload, !isEvent),
    });
  }
  return found;
}

/** The handler options in a pattern's extras (`{ redisBroker: { ... } }`); `{}` when none. */
function handlerOptionsOf(handler: MessageHandler, target: string): Record<string, unknown> {
  const own: unknown = handler.extras?.[HANDLER_OPTIONS_EXTRA];
  if (own === undefined) return {};
  expectRecord(`${target}.${HANDLER_OPTIONS_EXTRA}`, own);
  const options = own as Record<string, unknown>;
  if ('parse' in options) fail(`${target}.${HANDLER_OPTIONS_EXTRA}.parse`, options.parse, 'nothing: the transport decides how its messages are parsed');
  return options;
}

/**
 * Calls Nest's handler (and, for an event, every further handler Nest chained
 * to the same pattern, in order) with the data and a `RedisBrokerContext`,
 * and settles on the last value of an Observable result. A request's error is
 * its answer (`RpcErrorReply`); an event's error is a failure the processor
 * retries or dead-letters.
 */
function invokerOf(handler: MessageHandler, pattern: string, dataOf: (payload: unknown) => unknown, isRequest: boolean): HandlerInvoker {
  return async (payload, context) => {
    const data = dataOf(payload);
    const rpcContext = new RedisBrokerContext([context as QueueMessageContext | StreamMessageContext, pattern]);
    try {
      let value: unknown;
      for (let next: MessageHandler | undefined = handler; next; next = next.next as MessageHandler | undefined) {
        const result: unknown = await next(data, rpcContext);
        value = isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
      }
      return value;
    } catch (error) {
      if (isRequest) throw new RpcErrorReply(error);
      throw error instanceof Error ? error : new Error(rpcErrorText(error));
    }
  };
}

/**
 * A stream-routed event's data: the JSON in its `data` field (as
 * `RedisBrokerClientProxy.emit` writes it), or the whole field map for an
 * entry without one. Unparsable JSON can never succeed: dead-lettered at once.
 */
function streamData(payload: unknown): unknown {
  const fields = payload as Record<string, string>;
  const json = fields[STREAM_DATA_FIELD];
  if (json === undefined) return fields;
  try {
    return JSON.parse(json) as unknown;
  } catch (error) {
    throw new NonRetryableError(`field "${STREAM_DATA_FIELD}" is not JSON: ${errorText(error)}`);
  }
}
