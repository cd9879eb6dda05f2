import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { RedisConnectionFactory } from '../core/redis/redis-connection.factory.js';
import type { ChannelHandlerDescriptor } from '../discovery/handler-descriptor.js';
import { messages } from '../core/messages.js';
import { BrokerEvents } from '../core/events.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import type { ResolvedChannelListenerOptions } from '../core/options/handler.options.js';
import type { BrokerConsumer, ConsumerHealth } from '../runtime/message-source.js';
import { describeTarget, type ChannelKind, type ChannelTarget } from '../core/channel-target.js';
import type { ChannelListener, ChannelListenerStats } from './channel-listener.js';
import { ChannelDispatcher } from './channel.dispatcher.js';
import { SubscriberConnection } from './subscriber-connection.js';

/**
 * Every channel listener of the process, decorated or added at run time, on
 * shared subscriber connections: one for channels and patterns, and one more
 * (made only when needed) for sharded channels — on a Cluster that one is
 * ioredis' sharded subscriber group, a connection per shard node. Sharded
 * channels never share the plain connection: ioredis treats the connection as
 * unsubscribed once Redis reports 0 plain subscriptions and would then drop
 * sharded messages.
 *
 * As a consumer it starts the decorated listeners at bootstrap and stops at
 * shutdown: stop receiving, let buffered messages run until the deadline,
 * discard the rest (pub/sub keeps no copy to hand back).
 */
@Injectable()
export class ChannelSubscriber implements BrokerConsumer, OnModuleDestroy {
  readonly description = 'pub/sub listeners';
  private readonly connections = new Map<'plain' | 'sharded', SubscriberConnection>();
  private readonly dispatchers = new Set<ChannelDispatcher>();
  private readonly decorated: ChannelHandlerDescriptor[] = [];
  private state: ConsumerHealth['state'] = 'starting';
  private stopping: Promise<void> | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly factory: RedisConnectionFactory,
    private readonly events: BrokerEvents,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  /** Queues a decorated handler; `start` subscribes it. */
  register(descriptor: ChannelHandlerDescriptor): void {
    this.decorated.push(descriptor);
  }

  async start(): Promise<void> {
    this.state = 'running';
    this.pingTimer = setInterval(() => {
      for (const connection of this.connections.values()) connection.ping();
    }, BROKER_DEFAULTS.subscriberPingMs);
    this.pingTimer.unref();
    await Promise.all(this.decorated.map((d) => this.listen(d.channel, d.target, d.invoke, d.options)));
  }

  /**
   * Adds a listener and resolves once Redis acknowledged its subscription, to
   * a function that removes it again (the last listener of a channel
   * unsubscribes it).
   */
  async listen(
    target: ChannelTarget,
    handler: string,
    listener: ChannelListener,
    options: ResolvedChannelListenerOptions,
  ): Promise<() => Promise<void>> {
    if (this.stopping) throw new Error(messages.channelSubscriberStopped());
    const dispatcher = new ChannelDispatcher(handler, describeTarget(target), target.name, listener, options, this.events);
    const connection = this.connection(target.kind);
    this.dispatchers.add(dispatcher);
    try {
      await connection.add(target, dispatcher);
    } catch (error) {
      this.dispatchers.delete(dispatcher);
      throw error;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      this.dispatchers.delete(dispatcher);
      await connection.remove(target, dispatcher);
    };
  }

  /** Counters of every listener. */
  stats(): ChannelListenerStats[] {
    return [...this.dispatchers].map((d) => d.stats());
  }

  /** What each subscriber connection is subscribed to (names as Redis sees them). */
  subscriptions(): { connection: string; kind: ChannelKind; wire: string; listeners: number }[] {
    return [...this.connections.values()].flatMap((c) => c.subscriptions().map((s) => ({ connection: c.label, ...s })));
  }

  stop(deadline: number): Promise<void> {
    this.stopping ??= this.shutdown(deadline);
    return this.stopping;
  }

  async onModuleDestroy(): Promise<void> {
    // Normally the ConsumerRunner stops this first; this covers runtime
    // subscriptions in an app that runs no consumers (`producerOnly`).
    await this.stop(Date.now() + this.options.shutdownTimeoutMs);
  }

  health(): ConsumerHealth {
    const connections = [...this.connections.values()];
    let inFlight = 0;
    for (const dispatcher of this.dispatchers) {
      const { buffered, running } = dispatcher.stats();
      inFlight += buffered + running;
    }
    return {
      description: this.description,
      state: this.state,
      lastFetchAt: connections.length > 0 ? Math.min(...connections.map((c) => c.lastAliveAt)) : Date.now(),
      blockTimeoutMs: BROKER_DEFAULTS.subscriberPingMs,
      failing: connections.some((c) => !c.ready),
      inFlight,
    };
  }

  private connection(kind: ChannelKind): SubscriberConnection {
    const which = kind === 'sharded' ? 'sharded' : 'plain';
    let connection = this.connections.get(which);
    if (!connection) {
      const client = this.factory.create('subscriber', which === 'sharded' ? 'sharded-channels' : 'channels', {
        shardedPubSub: which === 'sharded',
      });
      connection = new SubscriberConnection(which === 'sharded' ? 'sharded channels' : 'channels', client, this.options.keyPrefix.length);
      this.connections.set(which, connection);
    }
    return connection;
  }

  private async shutdown(deadline: number): Promise<void> {
    this.state = 'stopping';
    clearInterval(this.pingTimer);
    const connections = [...this.connections.values()];
    for (const connection of connections) connection.detach();
    await Promise.all(connections.map((c) => this.factory.close(c.client)));
    await Promise.all(
      [...this.dispatchers].map(async (dispatcher) => {
        if (!(await dispatcher.whenIdle(deadline))) dispatcher.discard();
      }),
    );
    this.state = 'stopped';
  }
}
