import { Inject, Injectable } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../constants.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { QueueKeys } from '../keys.js';
import type { ResolvedBrokerOptions } from '../redis-broker.options.js';

/**
 * Counts of one list queue at one moment.
 * @publicApi
 */
export interface QueueStats {
  queue: string;
  /** Messages waiting on the list. */
  waiting: number;
  /** Messages taken by consumers and not yet settled (reliable mode). */
  processing: number;
  /** Delayed messages and retries not yet due. */
  delayed: number;
  /** Dead-lettered messages. */
  dead: number;
  /** Reliable consumers registered (alive or not yet reaped). */
  consumers: number;
}

/**
 * Reads queue counts for operations, metrics and health.
 * @publicApi
 */
@Injectable()
export class QueueInspector {
  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  async stats(queue: string): Promise<QueueStats> {
    return readQueueStats(this.command, new QueueKeys(queue, this.options.keyPrefix));
  }
}

/** Queue counts through any connection (also used by the testing helpers). */
export async function readQueueStats(client: RedisClient, keys: QueueKeys): Promise<QueueStats> {
  const [waiting, delayed, dead, consumerIds] = await Promise.all([
    client.llen(keys.list),
    client.zcard(keys.delayed),
    client.zcard(keys.deadIndex),
    client.zrange(keys.consumers, '0', '-1'),
  ]);
  const lengths = await Promise.all(consumerIds.map((id) => client.llen(keys.processing(id))));
  return {
    queue: keys.queue,
    waiting,
    processing: lengths.reduce((a, b) => a + b, 0),
    delayed,
    dead,
    consumers: consumerIds.length,
  };
}
