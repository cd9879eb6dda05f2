import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { channelPattern, QueueKeys, RegistryKeys, StreamKeys } from '../core/keys.js';
import { readQueueStats, type QueueStats } from '../queue/queue.inspector.js';
import { readLimitState, type LimitState } from '../runtime/limits/limit-state.js';
import { readBatchSetting, type BatchSetting } from '../runtime/batch-setting.js';
import {
  readStreamConsumers,
  readStreamStats,
  type StreamConsumerStats,
  type StreamGroupStats,
  type StreamStats,
} from '../stream/stream.inspector.js';

/**
 * A pub/sub channel with subscribers right now (`PUBSUB NUMSUB`), across
 * every process connected to Redis, not only this one.
 * @publicApi
 */
export interface ChannelStats {
  channel: string;
  subscribers: number;
  /** A Redis 7 sharded channel (`SSUBSCRIBE`). */
  sharded: boolean;
}

/**
 * A consumer group with each of its consumers (`XINFO CONSUMERS`).
 * @publicApi
 */
export interface StreamGroupOverview extends StreamGroupStats {
  consumerDetails: StreamConsumerStats[];
  /** The group's `rateLimit` / `globalConcurrency`, when its consumers have any. */
  limits?: LimitState;
  /** The `batch` option of the group's consumers, when they take batches. */
  batch?: BatchSetting;
}

/**
 * A queue's counts, with its limits.
 * @publicApi
 */
export interface QueueOverview extends QueueStats {
  /** The queue's `rateLimit` / `globalConcurrency`, when its consumers have any. */
  limits?: LimitState;
  /** The `batch` option of the queue's handler, when it takes batches. */
  batch?: BatchSetting;
}

/**
 * A stream with its groups and their consumers.
 * @publicApi
 */
export interface StreamOverview extends Omit<StreamStats, 'groups'> {
  groups: StreamGroupOverview[];
}

/**
 * Everything the broker keeps in Redis at one moment: each queue, stream
 * (with its groups) and subscribed channel under the key prefix.
 * @publicApi
 */
export interface BrokerOverview {
  queues: QueueOverview[];
  streams: StreamOverview[];
  channels: ChannelStats[];
  /** Pattern subscriptions (`PSUBSCRIBE`) open on the server; Redis does not say which channels they match. */
  patternSubscriptions: number;
  /** When the counts were read (epoch ms, this process' clock). */
  readAt: number;
}

/**
 * Names the caller already knows (e.g. the handlers of the running app), shown even when Redis holds nothing of them yet.
 * @publicApi
 */
export interface KnownNames {
  queues?: readonly string[];
  streams?: readonly string[];
}

/**
 * Finds the broker's queues, streams and channels without a running app, for
 * the dashboard and the command-line tool, without scanning the keyspace.
 * Queues and streams come from the registry (`RegistryKeys`): every producer
 * records a name at its first write, every consumer at its start, so a queue
 * with only waiting messages is listed too. A name only older versions or
 * plain clients used is not in it until something of this version writes or
 * consumes it; `kindOf` still finds it by its key. Channels are those with
 * subscribers now (`PUBSUB CHANNELS`, which lists live channels, not keys),
 * asked of every master on a Cluster.
 * @publicApi
 */
export class BrokerCatalog {
  private readonly registry: RegistryKeys;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
  ) {
    this.registry = new RegistryKeys(keyPrefix);
  }

  /** Names of the queues in the registry, sorted. */
  async queues(): Promise<string[]> {
    return (await this.client.smembers(this.registry.queues)).sort();
  }

  /** Names of the streams in the registry, sorted. */
  async streams(): Promise<string[]> {
    return (await this.client.smembers(this.registry.streams)).sort();
  }

  /** Channels under the prefix with at least one subscriber (plain and sharded), sorted; names without the prefix. */
  async channels(): Promise<ChannelStats[]> {
    const counts = new Map<string, ChannelStats>();
    const pattern = channelPattern(this.keyPrefix, '*');
    for (const node of this.nodes()) {
      for (const sharded of [false, true]) {
        const found = (await node.call('PUBSUB', sharded ? 'SHARDCHANNELS' : 'CHANNELS', pattern)) as string[];
        if (found.length === 0) continue;
        const reply = await node.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', ...found);
        for (const [full, subscribers] of pairs(reply)) {
          const channel = full.slice(this.keyPrefix.length);
          const id = `${sharded ? 's' : 'c'}:${channel}`;
          const seen = counts.get(id);
          counts.set(id, { channel, sharded, subscribers: (seen?.subscribers ?? 0) + subscribers });
        }
      }
    }
    return [...counts.values()].sort((a, b) => a.channel.localeCompare(b.channel));
  }

  /**
   * Whether `name` is a stream, a queue, or unknown to Redis: the registry
   * first, then the key itself (a stream key, or a list that exists), so a
   * name used before the registry existed is found when named.
   */
  async kindOf(name: string): Promise<'queue' | 'stream' | null> {
    const queue = new QueueKeys(name, this.keyPrefix);
    const stream = new StreamKeys(name, this.keyPrefix);
    if ((await this.client.sismember(this.registry.streams, name)) === 1) return 'stream';
    if ((await this.client.sismember(this.registry.queues, name)) === 1) return 'queue';
    if ((await this.client.type(stream.stream)) === 'stream') return 'stream';
    return (await this.client.exists(queue.list, queue.deadIndex)) > 0 ? 'queue' : null;
  }

  /** Counts of every queue, stream and channel found, plus the `known` names; queues and streams sorted by name. */
  async overview(known: KnownNames = {}): Promise<BrokerOverview> {
    const [queues, streams, channels, patternSubscriptions] = await Promise.all([
      this.queues(),
      this.streams(),
      this.channels(),
      this.patternSubscriptions(),
    ]);
    const queueNames = [...new Set([...queues, ...(known.queues ?? [])])].sort();
    const streamNames = [...new Set([...streams, ...(known.streams ?? [])])].sort();
    return {
      queues: await Promise.all(queueNames.map((q) => this.queueOverview(q))),
      streams: await Promise.all(streamNames.map((s) => this.streamOverview(s))),
      channels,
      patternSubscriptions,
      readAt: Date.now(),
    };
  }

  private async queueOverview(name: string): Promise<QueueOverview> {
    const keys = new QueueKeys(name, this.keyPrefix);
    const [stats, limits, batch] = await Promise.all([
      readQueueStats(this.client, keys),
      readLimitState(this.client, keys.limits()),
      readBatchSetting(this.client, keys.batch),
    ]);
    return { ...stats, ...(limits && { limits }), ...(batch && { batch }) };
  }

  private async streamOverview(name: string): Promise<StreamOverview> {
    const keys = new StreamKeys(name, this.keyPrefix);
    const stats = await readStreamStats(this.client, keys);
    const groups = await Promise.all(
      stats.groups.map(async (group) => {
        const [consumerDetails, limits, batch] = await Promise.all([
          this.consumersOf(keys, group.group),
          readLimitState(this.client, keys.limits(group.group)),
          readBatchSetting(this.client, keys.batch(group.group)),
        ]);
        return { ...group, consumerDetails, ...(limits && { limits }), ...(batch && { batch }) };
      }),
    );
    return { ...stats, groups };
  }

  private async consumersOf(keys: StreamKeys, group: string): Promise<StreamConsumerStats[]> {
    try {
      return await readStreamConsumers(this.client, keys, group);
    } catch (error) {
      // The group was destroyed between XINFO GROUPS and XINFO CONSUMERS: it has no consumers.
      if (error instanceof Error && error.message.startsWith('NOGROUP')) return [];
      throw error;
    }
  }

  private async patternSubscriptions(): Promise<number> {
    let total = 0;
    for (const node of this.nodes()) total += Number(await node.call('PUBSUB', 'NUMPAT'));
    return total;
  }

  private nodes(): Redis[] {
    return this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }
}

/** A `PUBSUB NUMSUB` reply as `[channel, count]` pairs, whether it came as a flat array (RESP2) or a map (RESP3). */
function pairs(reply: unknown): [string, number][] {
  if (Array.isArray(reply)) {
    const out: [string, number][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), Number(reply[i + 1])]);
    return out;
  }
  if (reply instanceof Map) return [...reply.entries()].map(([k, v]) => [String(k), Number(v)]);
  return Object.entries((reply ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Number(v)]);
}
