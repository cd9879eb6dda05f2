import { Redis } from 'ioredis';
import { QueueKeys } from '../core/keys.js';
import { errorText } from '../core/error-text.js';
import { readQueueStats, type QueueStats } from '../queue/queue.inspector.js';

/**
 * Polls `condition` until it returns true (or a truthy promise), or throws
 * after `timeoutMs` with `description` and the last error seen.
 * @publicApi
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; description?: string } = {},
): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 20, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}${lastError === undefined ? '' : ` (last error: ${errorText(lastError)})`}`);
}

/** Keys a `SCAN` call looks at per round trip while looking for processing lists. */
const SCAN_COUNT = 1_000;

/**
 * Waits until every given list queue is drained and idle: nothing waiting,
 * nothing in any processing list (a registered consumer's or not: a consumer
 * that died unregistered leaves its list until a reaper returns it), nothing
 * delayed or due for retry. Resolves to the final counts (dead-lettered
 * messages included, for assertions); `processing` counts every processing
 * list found. On timeout the error shows the last counts read.
 * @publicApi
 */
export async function waitForQueuesIdle(
  redisUrl: string,
  queues: string[],
  options: { timeoutMs?: number; keyPrefix?: string } = {},
): Promise<QueueStats[]> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  const keys = queues.map((queue) => new QueueKeys(queue, options.keyPrefix ?? ''));
  let last: QueueStats[] = [];
  try {
    await waitFor(
      async () => {
        // Lists found before the snapshot: one a reaper returns meanwhile shows its messages as waiting.
        last = await Promise.all(keys.map(async (k) => readQueueStats(client, k, await processingLists(client, k))));
        return last.every((s) => s.waiting === 0 && s.processing === 0 && s.delayed === 0);
      },
      { timeoutMs: options.timeoutMs ?? 10_000, description: `queues ${queues.join(', ')} to be idle` },
    );
    return last;
  } catch (error) {
    throw new Error(`${errorText(error)}; last counts: ${JSON.stringify(last)}`);
  } finally {
    client.disconnect();
  }
}

/** Every processing list of `keys`' queue on the server (SCAN: never blocks Redis; ends when the cursor wraps). */
async function processingLists(client: Redis, keys: QueueKeys): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', keys.processingPattern(), 'COUNT', SCAN_COUNT);
    for (const key of batch) found.add(key);
    cursor = next;
  } while (cursor !== '0');
  return [...found];
}
