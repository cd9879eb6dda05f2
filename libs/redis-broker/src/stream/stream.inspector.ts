import { Inject, Injectable } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { StreamKeys } from '../core/keys.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';

/**
 * One consumer group of a stream at one moment (`XINFO GROUPS`).
 * @publicApi
 */
export interface StreamGroupStats {
  group: string;
  /** Consumers known to the group (live or not yet removed). */
  consumers: number;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  lastDeliveredId: string;
  /**
   * Entries not yet delivered to the group (Redis 7 `lag`). `null` when Redis
   * cannot tell (after deletions or trimming in the unread range).
   */
  lag: number | null;
  /** Entries of the group's requeue stream not yet delivered. */
  requeueLag: number | null;
  /** Entries in the group's dead-letter stream. */
  dead: number;
}

/**
 * A stream and its groups at one moment.
 * @publicApi
 */
export interface StreamStats {
  stream: string;
  /** Entries in the stream (`XLEN`). */
  length: number;
  lastGeneratedId: string;
  groups: StreamGroupStats[];
}

/**
 * Pending entries of one group (`XPENDING` summary).
 * @publicApi
 */
export interface StreamPendingSummary {
  count: number;
  /** Oldest and newest pending id; `null` when nothing is pending. */
  minId: string | null;
  maxId: string | null;
  consumers: { consumer: string; pending: number }[];
}

/**
 * One consumer of a group (`XINFO CONSUMERS`).
 * @publicApi
 */
export interface StreamConsumerStats {
  consumer: string;
  pending: number;
  /** Ms since the consumer last read or claimed. */
  idleMs: number;
}

/**
 * Reads stream and consumer-group state for operations, metrics and health:
 * length, per-group lag and pending counts, consumers, pending summary.
 * @publicApi
 */
@Injectable()
export class StreamInspector {
  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  /** Length, last id and every group's lag, pending and dead counts; zeros when the stream does not exist. */
  async stats(stream: string): Promise<StreamStats> {
    return readStreamStats(this.command, new StreamKeys(stream, this.options.keyPrefix));
  }

  /** The `XPENDING` summary of one group. */
  async pending(stream: string, group: string): Promise<StreamPendingSummary> {
    const key = new StreamKeys(stream, this.options.keyPrefix).stream;
    const [count, minId, maxId, consumers] = (await this.command.xpending(key, group)) as [number, string | null, string | null, [string, string][] | null];
    return {
      count,
      minId,
      maxId,
      consumers: (consumers ?? []).map(([consumer, pending]) => ({ consumer, pending: Number(pending) })),
    };
  }

  /** The consumers of one group with their pending counts and idle times. */
  async consumers(stream: string, group: string): Promise<StreamConsumerStats[]> {
    return readStreamConsumers(this.command, new StreamKeys(stream, this.options.keyPrefix), group);
  }
}

/** The consumers of one group through any connection (`XINFO CONSUMERS`). */
export async function readStreamConsumers(client: RedisClient, keys: StreamKeys, group: string): Promise<StreamConsumerStats[]> {
  const rows = (await client.xinfo('CONSUMERS', keys.stream, group)) as unknown[];
  return rows.map((row) => {
    const r = toRecord(row);
    return { consumer: String(r.name), pending: Number(r.pending), idleMs: Number(r.idle) };
  });
}

/** Stream stats through any connection (also used by the testing helpers). */
export async function readStreamStats(client: RedisClient, keys: StreamKeys): Promise<StreamStats> {
  if ((await client.exists(keys.stream)) === 0) return { stream: keys.name, length: 0, lastGeneratedId: '0-0', groups: [] };
  const [info, groups] = await Promise.all([
    client.xinfo('STREAM', keys.stream).then(toRecord),
    client.xinfo('GROUPS', keys.stream) as Promise<unknown[]>,
  ]);
  const stats = await Promise.all(
    groups.map(async (row) => {
      const g = toRecord(row);
      const group = String(g.name);
      const [requeueLag, dead] = await Promise.all([requeueLagOf(client, keys.requeue(group), group), client.xlen(keys.deadLetter(group))]);
      return {
        group,
        consumers: Number(g.consumers),
        pending: Number(g.pending),
        lastDeliveredId: String(g['last-delivered-id']),
        lag: g.lag === null || g.lag === undefined ? null : Number(g.lag),
        requeueLag,
        dead,
      };
    }),
  );
  return { stream: keys.name, length: Number(info.length), lastGeneratedId: String(info['last-generated-id']), groups: stats };
}

async function requeueLagOf(client: RedisClient, key: string, group: string): Promise<number | null> {
  if ((await client.exists(key)) === 0) return 0;
  const rows = (await client.xinfo('GROUPS', key)) as unknown[];
  const row = rows.map(toRecord).find((r) => String(r.name) === group);
  if (!row) return (await client.xlen(key));
  return row.lag === null || row.lag === undefined ? null : Number(row.lag);
}

/** An `XINFO` reply as an object, whether ioredis gave a flat `[k, v, ...]` array or a map. */
function toRecord(reply: unknown): Record<string, unknown> {
  if (Array.isArray(reply)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
    return out;
  }
  return (reply ?? {}) as Record<string, unknown>;
}
