import { Inject, Injectable } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { QueueKeys } from '../core/keys.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import type { QueueDeadLetterRecord } from './queue.settler.js';

/**
 * A dead-lettered message with its record.
 * @publicApi
 */
export interface QueueDeadLetter extends QueueDeadLetterRecord {
  /** The original message text, exactly as it was on the queue (invalid UTF-8 shows replacement characters). */
  message: string;
}

/**
 * Dead-letter operations of list queues: inspect, requeue, purge. A requeued
 * message goes back to the producer end of its queue with fresh attempts.
 * @publicApi
 */
@Injectable()
export class QueueDeadLetterService {
  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  /** How many messages of `queue` are dead. */
  async count(queue: string): Promise<number> {
    return this.command.zcard(this.keys(queue).deadIndex);
  }

  /** Dead messages of `queue`, newest first. */
  async list(queue: string, page: { offset?: number; limit?: number } = {}): Promise<QueueDeadLetter[]> {
    const keys = this.keys(queue);
    const offset = page.offset ?? 0;
    const limit = page.limit ?? 50;
    const ids = await this.command.zrevrange(keys.deadIndex, offset, offset + limit - 1);
    if (ids.length === 0) return [];
    const [records, bodies] = await Promise.all([
      this.command.hmget(keys.deadRecords, ...ids),
      this.command.hmgetBuffer(keys.deadMessages, ...ids),
    ]);
    const out: QueueDeadLetter[] = [];
    ids.forEach((id, i) => {
      const record = records[i];
      if (!record) return;
      out.push({ ...(JSON.parse(record) as QueueDeadLetterRecord), id, message: bodies[i]?.toString('utf8') ?? '' });
    });
    return out;
  }

  /** One dead message of `queue` by its dead-letter id; null when the id is unknown. */
  async get(queue: string, id: string): Promise<QueueDeadLetter | null> {
    const keys = this.keys(queue);
    const [record, body] = await Promise.all([this.command.hget(keys.deadRecords, id), this.command.hgetBuffer(keys.deadMessages, id)]);
    if (!record) return null;
    return { ...(JSON.parse(record) as QueueDeadLetterRecord), id, message: body?.toString('utf8') ?? '' };
  }

  /** Puts one dead message back on its queue; false when the id is unknown. */
  async requeue(queue: string, id: string): Promise<boolean> {
    const keys = this.keys(queue);
    return (await this.command.nrbDeadRequeue(keys.list, keys.deadIndex, keys.deadRecords, keys.deadMessages, id)) === 1;
  }

  /** Puts every dead message of `queue` back, oldest first; returns how many. */
  async requeueAll(queue: string): Promise<number> {
    const keys = this.keys(queue);
    // Bounded by the count at the start: messages that die again meanwhile stay dead.
    let left = await this.command.zcard(keys.deadIndex);
    let total = 0;
    while (left > 0) {
      const ids = await this.command.zrange(keys.deadIndex, '0', String(Math.min(left, BROKER_DEFAULTS.deadLetterRequeueBatch) - 1));
      if (ids.length === 0) break;
      total += await this.command.nrbDeadRequeue(keys.list, keys.deadIndex, keys.deadRecords, keys.deadMessages, ...ids);
      left -= ids.length;
    }
    return total;
  }

  /** Deletes every dead message of `queue`; returns how many there were. */
  async purge(queue: string): Promise<number> {
    const keys = this.keys(queue);
    const count = await this.command.zcard(keys.deadIndex);
    await this.command.del(keys.deadIndex, keys.deadRecords, keys.deadMessages);
    return count;
  }

  private keys(queue: string): QueueKeys {
    return new QueueKeys(queue, this.options.keyPrefix);
  }
}
