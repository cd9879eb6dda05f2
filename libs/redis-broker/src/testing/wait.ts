import { Redis } from 'ioredis';
import { QueueKeys } from '../keys.js';
import { errorText } from '../runtime/consumer.loop.js';
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

/**
 * Waits until every given list queue is drained and idle: nothing waiting,
 * nothing in a processing list, nothing delayed or due for retry. Resolves to
 * the final counts (dead-lettered messages included, for assertions).
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
        last = await Promise.all(keys.map((k) => readQueueStats(client, k)));
        return last.every((s) => s.waiting === 0 && s.processing === 0 && s.delayed === 0);
      },
      { timeoutMs: options.timeoutMs ?? 10_000, description: `queues ${queues.join(', ')} to be idle` },
    );
    return last;
  } finally {
    client.disconnect();
  }
}
