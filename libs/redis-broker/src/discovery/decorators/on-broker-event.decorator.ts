import { ON_BROKER_EVENT_METADATA } from '../../core/constants.js';

/**
 * A broker lifecycle event a hook can listen to:
 * - `handled`: a handler run finished without error (queues, streams, channels);
 * - `failed`: a handler run threw or rejected, before the retry or dead-letter decision (all three);
 * - `retrying`: a failed message is scheduled for another attempt (queues, streams);
 * - `dead-lettered`: a message was moved to a dead-letter place (queues, streams);
 * - `reclaimed`: messages of a consumer presumed dead were taken over (queues, streams);
 * - `dropped`: channel messages were dropped by a full buffer (channels).
 * @publicApi
 */
export type BrokerEventName = 'handled' | 'failed' | 'retrying' | 'dead-lettered' | 'reclaimed' | 'dropped';

/**
 * Which sources a hook hears; no filter (or `{}`) hears every source. One
 * kind of source per filter: `queue`, or `stream` and/or `group`, or `channel`.
 * @publicApi
 */
export interface BrokerEventFilter {
  /** A queue name, as given to `@QueueHandler`. */
  queue?: string;
  /** A stream name, as given to `@StreamConsumer`; with `group`, that group only. */
  stream?: string;
  /** A consumer group name; without `stream`, that group on every stream. */
  group?: string;
  /** A channel or pattern, as named in `@OnChannel` or a runtime subscription. */
  channel?: string;
}

/** What one `@OnBrokerEvent` records on a method. */
export interface OnBrokerEventMetadata {
  event: BrokerEventName;
  filter: BrokerEventFilter | undefined;
}

/**
 * Calls the method on each broker lifecycle `event` of the sources `filter`
 * selects, with the event's data (see `BrokerHookEvent`): the source, the
 * handler, the message context (`ctx.id`, `ctx.attempt`...) and, on
 * failures, what the handler threw as `exception`. Found at bootstrap like
 * the handlers, on any static provider or controller; a method may carry
 * several. The hook runs synchronously when the event happens and is never
 * awaited; whatever it throws or rejects with is logged with `Class@method`
 * and never changes how the message is settled. An unknown event, or a
 * filter the event cannot match (e.g. `channel` on `retrying`), fails
 * bootstrap with `InvalidBrokerOptionsError`.
 *
 * @example
 * ```ts
 * @OnBrokerEvent('dead-lettered', { queue: 'emails' })
 * alert(event: BrokerHookEvent<'dead-lettered'>) {
 *   this.pager.send(`${event.context?.id} dead: ${event.reason}`);
 * }
 * ```
 * @publicApi
 */
export function OnBrokerEvent(event: BrokerEventName, filter?: BrokerEventFilter): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const previous = (Reflect.getMetadata(ON_BROKER_EVENT_METADATA, method) as OnBrokerEventMetadata[] | undefined) ?? [];
    // Decorators apply bottom-up: prepending keeps the order they are written in.
    Reflect.defineMetadata(ON_BROKER_EVENT_METADATA, [{ event, filter }, ...previous], method);
    return descriptor;
  };
}
