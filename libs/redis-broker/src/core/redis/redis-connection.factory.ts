import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { RESOLVED_BROKER_OPTIONS } from '../constants.js';
import { messages } from '../messages.js';
import { BrokerEvents } from '../events.js';
import { BROKER_DEFAULTS } from '../options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../options/broker.options.js';
import { redactUrl } from '../error-text.js';
import { defineBrokerScripts } from './broker-scripts.js';
import type { ConnectionRole, RedisClient } from './redis-client.js';

// Re-exported: most of the library takes the client type with the factory.
export type { ConnectionRole, RedisClient } from './redis-client.js';

/**
 * Creates every Redis connection of the broker from the module's connection
 * options, logs their errors through Nest's Logger (throttled, password
 * redacted), counts reconnects, and closes whatever is still open at shutdown.
 */
@Injectable()
export class RedisConnectionFactory implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnectionFactory.name);
  private readonly open = new Set<RedisClient>();

  constructor(
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
    private readonly events: BrokerEvents,
  ) {}

  /** Where the broker connects, safe to log. */
  describeTarget(): string {
    const { url, redis, cluster, sentinels, name } = this.options.connection;
    if (sentinels) return `sentinel(${name ?? ''}@${sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port}`).join(',')})`;
    if (cluster) return `cluster(${cluster.nodes.map((n) => (typeof n === 'object' ? `${n.host ?? ''}:${n.port ?? ''}` : redactUrl(String(n)))).join(',')})`;
    if (url) return redactUrl(url);
    return `redis://${redis?.host ?? '127.0.0.1'}:${redis?.port ?? 6379}`;
  }

  /** Whether the broker talks to a Redis Cluster. */
  get isCluster(): boolean {
    return this.options.connection.cluster !== undefined;
  }

  /**
   * Opens a new connection for `role`; `name` shows in logs and `CLIENT LIST`.
   * `shardedPubSub` asks a Cluster client for ioredis' per-shard subscribers
   * (`shardedSubscribers`), which `SSUBSCRIBE` needs there; standalone ignores it.
   */
  create(role: ConnectionRole, name: string, extra: { shardedPubSub?: boolean } = {}): RedisClient {
    const { url, redis, cluster, sentinels, name: masterName } = this.options.connection;
    const connectionName = `nrb:${role}:${name}`.replace(/\s/g, '_');
    // No ioredis auto-pipelining by default: the broker batches its own hot
    // commands (acks, starts), and auto-pipelining keeps one pipeline in
    // flight at a time, so a command waits for the previous batch's round
    // trip; measured with it on, p99 enqueue-to-handler latency at 5k msg/s
    // was 11 ms instead of 3.4 ms (CHANGELOG.md, Performance work). A user may still turn it
    // on for the command connection; blocking connections never pipeline.
    const perRole: RedisOptions = role === 'command' ? { connectionName } : { connectionName, enableAutoPipelining: false };
    let client: RedisClient;
    if (cluster) {
      client = new Cluster(cluster.nodes, {
        ...cluster.options,
        // A slot move unsubscribes a sharded channel on its old owner, and ioredis
        // then reads the slot map once; a node that has not learnt of the move
        // yet answers with the old map, and without a periodic refresh the
        // channel would stay unsubscribed. The user's own interval wins.
        ...(extra.shardedPubSub ? { shardedSubscribers: true, slotsRefreshInterval: cluster.options?.slotsRefreshInterval ?? BROKER_DEFAULTS.shardedSlotsRefreshMs } : {}),
        redisOptions: { ...cluster.options?.redisOptions, ...redis, ...perRole },
      });
    } else if (sentinels) {
      client = new Redis({ ...redis, sentinels, name: masterName, ...perRole });
    } else if (url) {
      client = new Redis(url, { ...redis, ...perRole });
    } else {
      client = new Redis({ ...redis, ...perRole });
    }
    defineBrokerScripts(client);
    this.watch(client, role, name);
    this.open.add(client);
    return client;
  }

  /** Closes one connection: a polite QUIT when it is up, a hard disconnect otherwise. */
  async close(client: RedisClient): Promise<void> {
    this.open.delete(client);
    if (client.status === 'ready') {
      try {
        await client.quit();
        return;
      } catch (error) {
        this.logger.debug(`QUIT failed, disconnecting: ${String(error)}`);
      }
    }
    client.disconnect();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.open].map((client) => this.close(client)));
  }

  private watch(client: RedisClient, role: ConnectionRole, name: string): void {
    const target = this.describeTarget();
    const label = `${role} (${name})`;
    let lastLoggedAt = 0;
    let lastMessage = '';
    let failing = false;
    client.on('error', (error: Error) => {
      failing = true;
      const now = Date.now();
      if (error.message !== lastMessage || now - lastLoggedAt >= BROKER_DEFAULTS.logThrottleMs) {
        lastLoggedAt = now;
        lastMessage = error.message;
        this.logger.error(messages.connectionError(label, target, error.message));
      }
    });
    client.on('ready', () => {
      if (!failing) return;
      failing = false;
      lastMessage = '';
      this.logger.log(messages.connectionRecovered(label, target));
      this.events.emit('reconnected', { role });
    });
    client.on('close', () => {
      if (this.open.has(client)) failing = true;
    });
  }
}
