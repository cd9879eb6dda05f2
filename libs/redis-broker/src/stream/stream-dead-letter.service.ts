import { Inject, Injectable } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { StreamKeys } from '../core/keys.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { assertEntryId, fieldsToObject, type RawStreamEntry } from './stream-entry.js';
import type { StreamDeadLetterReason } from './stream.settler.js';

/**
 * An entry a consumer group gave up on, as stored in the group's dead-letter
 * stream `{<stream>}:dead:<group>` (a plain stream: readable with `XRANGE`).
 * @publicApi
 */
export interface StreamDeadLetter {
  /** Id in the dead-letter stream, for `requeue`. */
  id: string;
  /** The entry's id in the stream it was read from. */
  originalId: string;
  stream: string;
  group: string;
  /** Consumer that gave up on it. */
  consumer: string;
  reason: StreamDeadLetterReason;
  /** The last error's message. */
  error: string;
  /** Deliveries to the group, as Redis counted them. */
  deliveries: number;
  /** `Class@method` of the handler. */
  handler: string;
  /** When it died (epoch ms, Redis time). */
  failedAt: number;
  /** The original fields, as stored. */
  fields: Record<string, string>;
}

/**
 * Dead-letter operations of stream consumer groups: list, requeue, purge. A
 * requeued entry is appended to the group's requeue stream, which only that
 * group reads: other groups of the stream do not see it again.
 * @publicApi
 */
@Injectable()
export class StreamDeadLetterService {
  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  /** How many entries of `group` are dead. */
  async count(stream: string, group: string): Promise<number> {
    return this.command.xlen(this.keys(stream).deadLetter(group));
  }

  /** Dead entries of `group`, newest first; `before` (exclusive) pages on from the last id seen. */
  async list(stream: string, group: string, page: { limit?: number; before?: string } = {}): Promise<StreamDeadLetter[]> {
    if (page.before !== undefined) assertEntryId('dead-letter id (before)', page.before);
    const end = page.before === undefined ? '+' : `(${page.before}`;
    const raw = (await this.command.xrevrange(this.keys(stream).deadLetter(group), end, '-', 'COUNT', page.limit ?? 50)) as RawStreamEntry[];
    return raw.map(([id, flat]) => toDeadLetter(id, flat));
  }

  /**
   * One dead entry of `group` by its id in the dead-letter stream; null when
   * the id is unknown. An id that is not `<ms>-<seq>` throws `InvalidBrokerOptionsError`.
   */
  async get(stream: string, group: string, id: string): Promise<StreamDeadLetter | null> {
    assertEntryId('dead-letter id', id);
    const raw = (await this.command.xrange(this.keys(stream).deadLetter(group), id, id)) as RawStreamEntry[];
    return raw.length === 0 ? null : toDeadLetter(raw[0][0], raw[0][1]);
  }

  /**
   * Puts one dead entry back for its group (fresh delivery count), once:
   * it leaves the dead-letter stream in the same step. False when the id is
   * unknown; an id that is not `<ms>-<seq>` throws `InvalidBrokerOptionsError`.
   */
  async requeue(stream: string, group: string, id: string): Promise<boolean> {
    assertEntryId('dead-letter id', id);
    const keys = this.keys(stream);
    return (await this.command.nrbStreamDeadRequeue(keys.deadLetter(group), keys.requeue(group), id)) === 1;
  }

  /** Puts every dead entry of `group` back, oldest first; returns how many. */
  async requeueAll(stream: string, group: string): Promise<number> {
    const keys = this.keys(stream);
    const dead = keys.deadLetter(group);
    // Bounded by the newest id at the start: entries that die again meanwhile stay dead.
    const newest = (await this.command.xrevrange(dead, '+', '-', 'COUNT', 1)) as RawStreamEntry[];
    if (newest.length === 0) return 0;
    let total = 0;
    let start = '-';
    for (;;) {
      const page = (await this.command.xrange(dead, start, newest[0][0], 'COUNT', BROKER_DEFAULTS.streamRequeueBatch)) as RawStreamEntry[];
      if (page.length === 0) break;
      total += await this.command.nrbStreamDeadRequeue(dead, keys.requeue(group), ...page.map(([id]) => id));
      start = `(${page[page.length - 1][0]}`;
    }
    return total;
  }

  /** Deletes every dead entry of `group`; returns how many there were. */
  async purge(stream: string, group: string): Promise<number> {
    const dead = this.keys(stream).deadLetter(group);
    const count = await this.command.xlen(dead);
    await this.command.del(dead);
    return count;
  }

  private keys(stream: string): StreamKeys {
    return new StreamKeys(stream, this.options.keyPrefix);
  }
}

function toDeadLetter(id: string, flat: string[]): StreamDeadLetter {
  const record = fieldsToObject(flat);
  let original: string[] = [];
  try {
    const parsed: unknown = JSON.parse(record.fields ?? '[]');
    if (Array.isArray(parsed)) original = parsed.map(String);
  } catch {
    // A record written by hand without JSON fields: show it without them.
    original = [];
  }
  return {
    id,
    originalId: record.originalId ?? '',
    stream: record.stream ?? '',
    group: record.group ?? '',
    consumer: record.consumer ?? '',
    reason: (record.reason ?? 'max-deliveries') as StreamDeadLetterReason,
    error: record.error ?? '',
    deliveries: Number(record.deliveries ?? 0),
    handler: record.handler ?? '',
    failedAt: Number(record.failedAt ?? 0),
    fields: fieldsToObject(original),
  };
}
