import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { BrokerKeyPatterns, QueueKeys, StreamKeys } from '../keys.js';
import { readQueueStats, type QueueStats } from '../queue/queue.inspector.js';
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
  queues: QueueStats[];
  streams: StreamOverview[];
  channels: ChannelStats[];
  /** Pattern subscriptions (`PSUBSCRIBE`) open on the server; Redis does not say which channels they match. */
  patternSubscriptions: number;
  /** When the counts were read (epoch ms, this process' clock). */
  readAt: number;
}

/** Names the caller already knows (e.g. the handlers of the running app), shown even when Redis holds nothing of them yet. */
export interface KnownNames {
  queues?: readonly string[];
  streams?: readonly string[];
}

const SCAN_COUNT = 1_000;

/**
 * Finds the broker's queues, streams and channels in Redis without a running
 * app, for the dashboard and the command-line tool. A queue is found by its
 * own keys (`{<queue>}:consumers`, `:delayed`, `:dead`), so a queue that only
 * has waiting messages and was never consumed in reliable mode is found only
 * when its name is passed as known. A stream is any key of type stream under
 * the prefix, or one that has dead-letter or requeue streams. On a Cluster
 * every master is scanned.
 * @publicApi
 */
export class BrokerCatalog {
  private readonly patterns: BrokerKeyPatterns;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
  ) {
    this.patterns = new BrokerKeyPatterns(keyPrefix);
  }

  /** Names of queues with broker keys, sorted. */
  async queues(): Promise<string[]> {
    const names = new Set<string>();
    for (const key of await this.scan(this.patterns.ownKeys)) {
      const name = this.patterns.queueOf(key);
      if (name !== null) names.add(name);
    }
    return [...names].sort();
  }

  /** Names of streams under the prefix, and of streams that only have dead-letter or requeue streams left, sorted. */
  async streams(): Promise<string[]> {
    const names = new Set<string>();
    const [plain, own] = await Promise.all([this.scan(this.patterns.streams, 'stream'), this.scan(this.patterns.ownKeys, 'stream')]);
    for (const key of plain) {
      const name = this.patterns.nameOf(key);
      if (name !== null) names.add(name);
    }
    for (const key of own) {
      const name = this.patterns.streamOfOwnKey(key);
      if (name !== null) names.add(name);
    }
    return [...names].sort();
  }

  /** Channels under the prefix with at least one subscriber (plain and sharded), sorted; names without the prefix. */
  async channels(): Promise<ChannelStats[]> {
    const counts = new Map<string, ChannelStats>();
    for (const node of this.nodes()) {
      for (const sharded of [false, true]) {
        const found = (await node.call('PUBSUB', sharded ? 'SHARDCHANNELS' : 'CHANNELS', this.patterns.channels)) as string[];
        if (found.length === 0) continue;
        const reply = await node.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', ...found);
        for (const [full, subscribers] of pairs(reply)) {
          const channel = this.patterns.nameOf(full);
          if (channel === null) continue;
          const id = `${sharded ? 's' : 'c'}:${channel}`;
          const seen = counts.get(id);
          counts.set(id, { channel, sharded, subscribers: (seen?.subscribers ?? 0) + subscribers });
        }
      }
    }
    return [...counts.values()].sort((a, b) => a.channel.localeCompare(b.channel));
  }

  /** Whether `name` is a stream, a queue (any of its keys exists), or unknown to Redis. */
  async kindOf(name: string): Promise<'queue' | 'stream' | null> {
    const queue = new QueueKeys(name, this.keyPrefix);
    const stream = new StreamKeys(name, this.keyPrefix);
    if ((await this.client.type(stream.stream)) === 'stream') return 'stream';
    if ((await this.streams()).includes(name)) return 'stream';
    const exists = await this.client.exists(queue.list);
    if (exists > 0 || (await this.queues()).includes(name)) return 'queue';
    return null;
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
      queues: await Promise.all(queueNames.map((q) => readQueueStats(this.client, new QueueKeys(q, this.keyPrefix)))),
      streams: await Promise.all(streamNames.map((s) => this.streamOverview(s))),
      channels,
      patternSubscriptions,
      readAt: Date.now(),
    };
  }

  private async streamOverview(name: string): Promise<StreamOverview> {
    const keys = new StreamKeys(name, this.keyPrefix);
    const stats = await readStreamStats(this.client, keys);
    const groups = await Promise.all(
      stats.groups.map(async (group) => ({ ...group, consumerDetails: await this.consumersOf(keys, group.group) })),
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

  /** Every key matching `match` (optionally of one type) on every master; a key may be reported twice by SCAN, so this dedups. */
  private async scan(match: string, type?: string): Promise<string[]> {
    const found = new Set<string>();
    for (const node of this.nodes()) {
      let cursor = '0';
      do {
        const args: (string | number)[] = [cursor, 'MATCH', match, 'COUNT', SCAN_COUNT];
        if (type) args.push('TYPE', type);
        const [next, keys] = (await node.call('SCAN', ...args)) as [string, string[]];
        for (const key of keys) found.add(key);
        cursor = next;
      } while (cursor !== '0');
    }
    return [...found];
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
