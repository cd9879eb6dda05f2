import { Redis } from 'ioredis';
import { StreamKeys } from '../core/keys.js';
import { readStreamStats, type StreamGroupStats } from '../stream/stream.inspector.js';
import { waitFor } from './wait.js';

/**
 * Waits until every given consumer group has read its stream (and its
 * requeue stream) to the end and acknowledged everything: lag 0 and nothing
 * pending. Resolves to the final group stats (dead-letter counts included,
 * for assertions).
 * @publicApi
 */
export async function waitForStreamGroupsIdle(
  redisUrl: string,
  groups: { stream: string; group: string }[],
  options: { timeoutMs?: number; keyPrefix?: string } = {},
): Promise<StreamGroupStats[]> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  let last: StreamGroupStats[] = [];
  try {
    await waitFor(
      async () => {
        last = await Promise.all(groups.map(({ stream, group }) => readGroup(client, stream, group, options.keyPrefix ?? '')));
        return last.every((s) => s.pending === 0 && s.lag === 0 && s.requeueLag === 0);
      },
      { timeoutMs: options.timeoutMs ?? 10_000, description: `stream groups ${groups.map((g) => `${g.stream}/${g.group}`).join(', ')} to be idle` },
    );
    return last;
  } finally {
    client.disconnect();
  }
}

async function readGroup(client: Redis, stream: string, group: string, keyPrefix: string): Promise<StreamGroupStats> {
  const stats = await readStreamStats(client, new StreamKeys(stream, keyPrefix));
  const found = stats.groups.find((g) => g.group === group);
  if (!found) throw new Error(`group "${group}" of stream "${stream}" does not exist (yet)`);
  // Redis cannot always count the lag (null); then the last delivered id tells whether all was read.
  if (found.lag === null && found.lastDeliveredId === stats.lastGeneratedId) return { ...found, lag: 0 };
  return found;
}
