import { SetMetadata } from '@nestjs/common';
import { ON_CHANNEL_METADATA } from '../../core/constants.js';
import type { ChannelSelector } from '../../core/channel-target.js';
import type { ChannelListenerOptions } from '../../core/options/handler.options.js';

/** What `@OnChannel` records on a method. */
export interface OnChannelMetadata {
  selector: ChannelSelector;
  options: ChannelListenerOptions;
}

/**
 * A channel, pattern or sharded channel to listen to, with listener options.
 * @publicApi
 */
export type OnChannelSpec =
  | ({ channel: string; sharded?: boolean; pattern?: never } & ChannelListenerOptions)
  | ({ pattern: string; channel?: never; sharded?: never } & ChannelListenerOptions);

/**
 * Listens to a Redis pub/sub channel (with the module's `keyPrefix`): every
 * message published while this process is subscribed reaches the method
 * once, in every process that listens (broadcast, not work sharing). The
 * method receives the payload (JSON-parsed when it parses, the string
 * otherwise; see `parse`) and a {@link ChannelMessageContext} (channel,
 * pattern, sharded, raw text, receive time), or what `@Payload()` / `@Ctx()`
 * select; Nest pipes, guards, interceptors and filters apply.
 *
 * Guarantee: at most once. Nothing is stored: a message published while the
 * subscriber is disconnected (or dropped by a full buffer) is never
 * delivered; use a queue or stream when a message must not be lost. A thrown
 * error is logged and affects nothing else; there is no retry.
 *
 * Forms:
 * - `@OnChannel('hello')` — `SUBSCRIBE hello`
 * - `@OnChannel({ pattern: 'user.*' })` — `PSUBSCRIBE user.*`; the context has the pattern and the actual channel
 * - `@OnChannel({ channel: 'orders', sharded: true })` — `SSUBSCRIBE orders` (Redis 7; publish with `{ sharded: true }`)
 *
 * Defaults: `parse: 'auto'`, `bufferSize: 10000`, `maxBufferBytes: 32 MiB`, `overflow: 'drop-oldest'`, `concurrency: 1`.
 *
 * @example
 * ```ts
 * @OnChannel({ pattern: 'user.*', bufferSize: 1000 })
 * onUserEvent(@Payload() event: unknown, @Ctx() ctx: ChannelMessageContext) { ... }
 * ```
 * @publicApi
 */
export function OnChannel(channel: string, options?: ChannelListenerOptions): MethodDecorator;
export function OnChannel(spec: OnChannelSpec): MethodDecorator;
export function OnChannel(target: string | OnChannelSpec, options: ChannelListenerOptions = {}): MethodDecorator {
  if (typeof target === 'string') return SetMetadata<string, OnChannelMetadata>(ON_CHANNEL_METADATA, { selector: target, options });
  const { channel, pattern, sharded, ...rest } = target as { channel?: string; pattern?: string; sharded?: boolean } & ChannelListenerOptions;
  // Only the keys that were written, so validation can reject a pattern given with channel or sharded.
  const selector = Object.fromEntries(
    Object.entries({ channel, pattern, sharded }).filter(([, value]) => value !== undefined),
  ) as ChannelSelector;
  return SetMetadata<string, OnChannelMetadata>(ON_CHANNEL_METADATA, { selector, options: rest });
}
