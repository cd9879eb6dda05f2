import { Logger } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { messages } from '../core/messages.js';
import { errorText } from '../core/error-text.js';
import { ChannelMessageContext } from './channel-message.context.js';
import type { ChannelDispatcher } from './channel.dispatcher.js';
import type { ChannelKind, ChannelTarget } from '../core/channel-target.js';

/** One Redis subscription and the listeners that share it. */
interface Subscription {
  target: ChannelTarget;
  /** Replaced, never mutated, so a delivery in progress iterates a stable list. */
  dispatchers: readonly ChannelDispatcher[];
  /** Settles when Redis acknowledged the subscribe command. */
  acknowledged: Promise<unknown>;
}

/**
 * One subscriber connection and its subscription table: each channel or
 * pattern is subscribed once however many listeners share it, and each
 * delivery is handed to every listener's dispatcher once.
 *
 * ioredis resubscribes by itself after a reconnect (`autoResubscribe`), from
 * its own bookkeeping. That bookkeeping is emptied whenever an unsubscribe
 * reply reports 0 subscriptions — and Redis counts plain and sharded
 * subscriptions apart — and Cluster slot moves edit it too. So sharded
 * channels live on a connection of their own (see `ChannelSubscriber`), and
 * after every reconnect this connection also subscribes its own table again:
 * the table, not ioredis' state, is the truth (subscribing twice to one
 * channel is harmless in Redis: it still delivers each message once).
 */
export class SubscriberConnection {
  private readonly logger = new Logger(SubscriberConnection.name);
  private readonly tables: Record<ChannelKind, Map<string, Subscription>> = {
    channel: new Map(),
    pattern: new Map(),
    sharded: new Map(),
  };
  private wasReady = false;
  private detached = false;
  /** Epoch ms of the last message, PING reply or subscribe acknowledgement. */
  lastAliveAt = Date.now();

  constructor(
    /** For logs: `channels` or `sharded channels`. */
    readonly label: string,
    readonly client: RedisClient,
    private readonly prefixLength: number,
  ) {
    client.on('message', (channel: string, raw: string) => {
      const subscription = this.tables.channel.get(channel);
      if (subscription) this.deliver(subscription, new ChannelMessageContext(subscription.target.name, undefined, false, raw, Date.now()));
    });
    client.on('pmessage', (pattern: string, channel: string, raw: string) => {
      const subscription = this.tables.pattern.get(pattern);
      if (subscription) {
        this.deliver(subscription, new ChannelMessageContext(channel.slice(this.prefixLength), subscription.target.name, false, raw, Date.now()));
      }
    });
    client.on('smessage', (channel: string, raw: string) => {
      const subscription = this.tables.sharded.get(channel);
      if (subscription) this.deliver(subscription, new ChannelMessageContext(subscription.target.name, undefined, true, raw, Date.now()));
    });
    client.on('ready', () => {
      if (this.wasReady) this.resubscribe();
      this.wasReady = true;
    });
  }

  /** Whether the connection is up now. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Adds a listener; resolves once Redis has acknowledged the subscription (at once when it already existed). */
  async add(target: ChannelTarget, dispatcher: ChannelDispatcher): Promise<void> {
    const table = this.tables[target.kind];
    const existing = table.get(target.wire);
    if (existing) {
      existing.dispatchers = [...existing.dispatchers, dispatcher];
      await existing.acknowledged;
      return;
    }
    const subscription: Subscription = { target, dispatchers: [dispatcher], acknowledged: this.subscribe(target.kind, [target.wire]) };
    table.set(target.wire, subscription);
    try {
      await subscription.acknowledged;
      this.lastAliveAt = Date.now();
    } catch (error) {
      if (table.get(target.wire) === subscription) table.delete(target.wire);
      throw error;
    }
  }

  /** Removes a listener; the last one of a channel or pattern unsubscribes it. */
  async remove(target: ChannelTarget, dispatcher: ChannelDispatcher): Promise<void> {
    const table = this.tables[target.kind];
    const subscription = table.get(target.wire);
    if (!subscription) return;
    subscription.dispatchers = subscription.dispatchers.filter((d) => d !== dispatcher);
    if (subscription.dispatchers.length > 0) return;
    table.delete(target.wire);
    await this.unsubscribe(target.kind, target.wire);
  }

  /** Stops handing deliveries to listeners (the first step of shutdown). */
  detach(): void {
    this.detached = true;
  }

  /** Sends a PING; a reply proves the connection alive. */
  ping(): void {
    if (!this.ready) return;
    this.client.ping().then(
      () => (this.lastAliveAt = Date.now()),
      // The factory logs connection errors; a lost PING only leaves lastAliveAt old.
      () => undefined,
    );
  }

  /** The subscriptions of this connection (names on the wire), for tests and diagnostics. */
  subscriptions(): { kind: ChannelKind; wire: string; listeners: number }[] {
    return (Object.keys(this.tables) as ChannelKind[]).flatMap((kind) =>
      [...this.tables[kind].values()].map((s) => ({ kind, wire: s.target.wire, listeners: s.dispatchers.length })),
    );
  }

  private deliver(subscription: Subscription, context: ChannelMessageContext): void {
    if (this.detached) return;
    this.lastAliveAt = context.receivedAt;
    for (const dispatcher of subscription.dispatchers) dispatcher.push(context);
  }

  private subscribe(kind: ChannelKind, wires: string[]): Promise<unknown> {
    if (kind === 'channel') return this.client.subscribe(...wires);
    if (kind === 'pattern') return this.client.psubscribe(...wires);
    // One SSUBSCRIBE per channel: on a Cluster the channels of one command must share a slot.
    return Promise.all(wires.map((wire) => this.client.ssubscribe(wire)));
  }

  private unsubscribe(kind: ChannelKind, wire: string): Promise<unknown> {
    if (kind === 'channel') return this.client.unsubscribe(wire);
    if (kind === 'pattern') return this.client.punsubscribe(wire);
    return this.client.sunsubscribe(wire);
  }

  private resubscribe(): void {
    const all = (Object.keys(this.tables) as ChannelKind[])
      .filter((kind) => this.tables[kind].size > 0)
      .map((kind) => this.subscribe(kind, [...this.tables[kind].keys()]));
    Promise.all(all).then(
      () => (this.lastAliveAt = Date.now()),
      (error: unknown) => this.logger.error(messages.channelResubscribeFailed(this.label, errorText(error))),
    );
  }
}
