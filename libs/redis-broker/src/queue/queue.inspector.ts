import { Inject, Injectable } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { QueueKeys } from '../core/keys.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';

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

/**
 * Queue counts through any connection (also used by the testing helpers).
 * The counts are one atomic snapshot (MULTI), so a message moving between
 * the list, a processing list and the delayed set is never missed or counted twice.
 * `moreProcessingLists` (found with `SCAN`, say) are counted in the same
 * snapshot beside the registered consumers' lists.
 */
export async function readQueueStats(client: RedisClient, keys: QueueKeys, moreProcessingLists: readonly string[] = []): Promise<QueueStats> {
  let consumerIds = await client.zrange(keys.consumers, '0', '-1');
  for (;;) {
    const multi = client.multi().llen(keys.list).zcard(keys.delayed).zcard(keys.deadIndex).zrange(keys.consumers, '0', '-1');
    const lists = new Set(consumerIds.map((id) => keys.processing(id)));
    for (const list of moreProcessingLists) lists.add(list);
    for (const list of lists) multi.llen(list);
    const replies = await multi.exec();
    if (!replies) throw new Error(`Reading the counts of queue "${keys.queue}" was aborted`);
    const values = replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const seen = values[3] as string[];
    // A consumer came or went between the two reads: read again with the new set.
    if (seen.length !== consumerIds.length || seen.some((id, i) => id !== consumerIds[i])) {
      consumerIds = seen;
      continue;
    }
    return {
      queue: keys.queue,
      waiting: values[0] as number,
      processing: (values.slice(4) as number[]).reduce((a, b) => a + b, 0),
      delayed: values[1] as number,
      dead: values[2] as number,
      consumers: consumerIds.length,
    };
  }
}
