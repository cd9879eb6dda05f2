import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { resolveChannelListenerOptions } from '../core/options/handler-options.validation.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import type { ChannelListenerOptions } from '../core/options/handler.options.js';
import { toChannelTarget, type ChannelSelector } from '../core/channel-target.js';
import type { ChannelListener, ChannelListenerStats } from './channel-listener.js';
import { ChannelSubscriber } from './channel.subscriber.js';

/**
 * Options of one runtime subscription: the listener options plus a label for
 * logs and stats.
 * @publicApi
 */
export interface RuntimeSubscriptionOptions extends ChannelListenerOptions {
  /** Names the listener in logs, events and stats. Default: the function's name, or `runtime listener`. */
  label?: string;
}

/**
 * Subscribes listeners at run time, e.g. one per connected user
 * (`notifications.<userId>`), on the same subscriber connection as the
 * `@OnChannel` handlers. Runtime listeners are plain functions: Nest pipes,
 * guards, interceptors and filters do not apply to them.
 *
 * @example
 * ```ts
 * const unsubscribe = await subscriptions.subscribe(`notifications.${userId}`, (msg) => socket.send(msg));
 * // later
 * await unsubscribe();
 * ```
 * @publicApi
 */
@Injectable()
export class ChannelSubscriptionService {
  constructor(
    private readonly subscriber: ChannelSubscriber,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  /**
   * Starts delivering messages of `selector` (a channel, `{ pattern }` or
   * `{ channel, sharded: true }`, without the key prefix) to `listener`.
   * Resolves once Redis acknowledged the subscription, so anything published
   * afterwards reaches the listener; resolves to a function that removes it.
   * A channel is unsubscribed when its last listener (runtime or decorated)
   * is removed. Invalid names or options throw `InvalidBrokerOptionsError`.
   */
  async subscribe(
    selector: ChannelSelector,
    listener: ChannelListener,
    options: RuntimeSubscriptionOptions = {},
  ): Promise<() => Promise<void>> {
    const { label, ...listenerOptions } = options;
    const target = toChannelTarget(selector, this.options.keyPrefix);
    const resolved = resolveChannelListenerOptions('subscribe', listenerOptions, this.options.channelDefaults);
    const name = label ?? (listener.name || 'runtime listener');
    return this.subscriber.listen(target, name, listener, resolved);
  }

  /** Buffer and drop counters of every channel listener (decorated and runtime) in this process. */
  stats(): ChannelListenerStats[] {
    return this.subscriber.stats();
  }
}
