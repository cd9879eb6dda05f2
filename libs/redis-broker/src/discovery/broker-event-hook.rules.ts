import type { BrokerEventMap, SourceKind } from '../core/events.js';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { messages } from '../core/messages.js';
import type { BrokerEventFilter, BrokerEventName } from './decorators/on-broker-event.decorator.js';

/** The `BrokerEvents` events hooks listen to: all but `reconnected`, which no message source emits. */
export type HookBusEvent = Exclude<keyof BrokerEventMap, 'reconnected'>;

/** Each hook event: the `BrokerEvents` event it listens to, and the source kinds that emit it. */
export const BROKER_EVENT_HOOKS: Readonly<Record<BrokerEventName, { bus: HookBusEvent; kinds: readonly SourceKind[] }>> = {
  handled: { bus: 'handled', kinds: ['queue', 'stream', 'channel'] },
  failed: { bus: 'failed', kinds: ['queue', 'stream', 'channel'] },
  retrying: { bus: 'retried', kinds: ['queue', 'stream'] },
  'dead-lettered': { bus: 'deadLettered', kinds: ['queue', 'stream'] },
  reclaimed: { bus: 'reclaimed', kinds: ['queue', 'stream'] },
  dropped: { bus: 'dropped', kinds: ['channel'] },
};

const FILTER_KINDS: Readonly<Record<keyof BrokerEventFilter, SourceKind>> = {
  queue: 'queue',
  stream: 'stream',
  group: 'stream',
  channel: 'channel',
};

/** The part of an event a filter reads. */
export interface HookedEvent {
  kind: SourceKind;
  /** Queue, `stream/group` or channel name. */
  source: string;
}

/** A stream and group consumed in this app. */
export interface StreamGroup {
  stream: string;
  group: string;
}

/**
 * Checks one `@OnBrokerEvent(event, filter)` of `target` (`Class@method`):
 * a known event, and a filter of known keys with non-empty string values,
 * of one source kind, that the event is emitted for. Throws
 * `InvalidBrokerOptionsError` naming the method and the value.
 */
export function assertValidHook(target: string, event: unknown, filter: unknown): asserts event is BrokerEventName {
  const fail = (detail: string): never => {
    throw new InvalidBrokerOptionsError(messages.invalidEventHook(target, detail));
  };
  const known = Object.keys(BROKER_EVENT_HOOKS);
  if (typeof event !== 'string' || !known.includes(event)) {
    fail(messages.invalidOption('event', event, known.map((name) => `'${name}'`).join(', ')));
  }
  if (filter === undefined) return;
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    fail(messages.invalidOption('filter', filter, '{ queue }, { stream, group }, { channel } or nothing'));
  }
  const kinds = new Set<SourceKind>();
  for (const [key, value] of Object.entries(filter as Record<string, unknown>)) {
    if (!(key in FILTER_KINDS)) fail(messages.unknownOption(`filter.${key}`, Object.keys(FILTER_KINDS)));
    if (typeof value !== 'string' || value.length === 0) fail(messages.invalidOption(`filter.${key}`, value, 'a non-empty name'));
    kinds.add(FILTER_KINDS[key as keyof BrokerEventFilter]);
  }
  if (kinds.size > 1) {
    fail(messages.invalidOption('filter', filter, 'one kind of source: { queue }, { stream, group } or { channel }'));
  }
  const [kind] = kinds;
  const emittedBy = BROKER_EVENT_HOOKS[event as BrokerEventName].kinds;
  if (kind !== undefined && !emittedBy.includes(kind)) {
    fail(messages.invalidOption('filter', filter, `a filter on ${emittedBy.join(' or ')}: '${event as string}' is never emitted for a ${kind}`));
  }
}

/**
 * Whether an event comes from a source `filter` selects. Stream events name
 * their source `stream/group`, and both names may hold a `/`: a stream
 * filter is matched against the stream groups this app consumes, never by
 * splitting the source.
 */
export function hookFilterMatcher(
  filter: BrokerEventFilter | undefined,
  streamGroups: readonly StreamGroup[],
): (event: HookedEvent) => boolean {
  if (filter === undefined) return () => true;
  const { queue, stream, group, channel } = filter;
  if (queue !== undefined) return (event) => event.kind === 'queue' && event.source === queue;
  if (channel !== undefined) return (event) => event.kind === 'channel' && event.source === channel;
  if (stream === undefined && group === undefined) return () => true;
  const sources = new Set(
    streamGroups
      .filter((sg) => (stream === undefined || sg.stream === stream) && (group === undefined || sg.group === group))
      .map((sg) => `${sg.stream}/${sg.group}`),
  );
  return (event) => event.kind === 'stream' && sources.has(event.source);
}

/**
 * Whether a queue or stream filter names no source this app consumes: events
 * come only from this process's consumers, so such a hook never runs (a typo,
 * or a handler that lives in another app). Channel filters are never flagged:
 * run-time subscriptions add channels after bootstrap.
 */
export function filterHearsNothing(
  filter: BrokerEventFilter | undefined,
  queues: readonly string[],
  streamGroups: readonly StreamGroup[],
): boolean {
  if (filter === undefined) return false;
  const { queue, stream, group } = filter;
  if (queue !== undefined) return !queues.includes(queue);
  if (stream === undefined && group === undefined) return false;
  return !streamGroups.some((sg) => (stream === undefined || sg.stream === stream) && (group === undefined || sg.group === group));
}
