import { InvalidBrokerOptionsError } from './errors/invalid-broker-options.error.js';
import { assertValidName, channelName, channelPattern } from './keys.js';
import { messages } from './messages.js';

/**
 * What a listener subscribes to: a channel name (`SUBSCRIBE`), a glob pattern
 * (`PSUBSCRIBE`, e.g. `user.*`), or a sharded channel (`SSUBSCRIBE`, Redis 7).
 * Names are given without the module's `keyPrefix`.
 * @publicApi
 */
export type ChannelSelector =
  | string
  | { channel: string; sharded?: boolean; pattern?: never }
  | { pattern: string; channel?: never; sharded?: never };

/** How a subscription reaches Redis. */
export type ChannelKind = 'channel' | 'pattern' | 'sharded';

/** A validated selector: its kind, its name as the user wrote it, and its name on the wire. */
export interface ChannelTarget {
  kind: ChannelKind;
  /** Without the key prefix. */
  name: string;
  /** With the key prefix (glob-escaped for patterns): what Redis sees. */
  wire: string;
}

const SELECTOR_KEYS = ['channel', 'pattern', 'sharded'];

/** Validates a selector; throws `InvalidBrokerOptionsError` naming what is wrong. */
export function toChannelTarget(selector: ChannelSelector, prefix: string): ChannelTarget {
  if (typeof selector === 'string') return { kind: 'channel', name: selector, wire: channelName(prefix, selector) };
  if (selector === null || typeof selector !== 'object') {
    throw new InvalidBrokerOptionsError(messages.invalidOption('channel', selector, 'a channel name, { channel, sharded? } or { pattern }'));
  }
  for (const key of Object.keys(selector)) {
    if (!SELECTOR_KEYS.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(key, SELECTOR_KEYS));
  }
  const { channel, pattern, sharded } = selector as { channel?: unknown; pattern?: unknown; sharded?: unknown };
  if (sharded !== undefined && typeof sharded !== 'boolean') {
    throw new InvalidBrokerOptionsError(messages.invalidOption('sharded', sharded, 'true or false'));
  }
  if (pattern !== undefined) {
    if (channel !== undefined || sharded !== undefined) {
      // Redis has no sharded pattern subscription (there is no SPSUBSCRIBE).
      throw new InvalidBrokerOptionsError(messages.invalidOption('pattern', pattern, 'a pattern alone: not with channel or sharded (Redis has no sharded pattern subscription)'));
    }
    assertValidName('channel pattern', pattern);
    return { kind: 'pattern', name: pattern, wire: channelPattern(prefix, pattern) };
  }
  assertValidName('channel', channel);
  return { kind: sharded ? 'sharded' : 'channel', name: channel, wire: channelName(prefix, channel) };
}

/** For logs and events: `channel "hello"`, `pattern "user.*"`, `sharded channel "orders"`. */
export function describeTarget(target: ChannelTarget): string {
  return `${target.kind === 'sharded' ? 'sharded channel' : target.kind} "${target.name}"`;
}
