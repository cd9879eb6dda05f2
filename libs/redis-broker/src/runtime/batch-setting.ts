import type { Logger } from '@nestjs/common';
import { errorText } from '../core/error-text.js';
import type { ResolvedBatchOptions } from '../core/options/batch.options.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';

/**
 * The `batch` option of a queue's or stream group's handler, as its consumers
 * recorded it in Redis (the last one to start wrote it).
 * @publicApi
 */
export interface BatchSetting {
  /** Most messages in one call of the handler. */
  size: number;
  /** Longest a partial batch waits for more, in ms. */
  maxWaitMs: number;
}

/**
 * Records a consumer's `batch` option at its start for the status tools
 * (`batch`: undefined for a handler that takes one message at a time, which
 * clears what an earlier batch consumer of the same queue or group left).
 * Only shown by those tools: a Redis down at boot must not fail the boot, so
 * a failure is logged and the start goes on.
 */
export function recordBatchSetting(command: RedisClient, key: string, batch: ResolvedBatchOptions | undefined, description: string, logger: Logger): void {
  const write = batch ? command.hset(key, 'size', String(batch.size), 'maxWaitMs', String(batch.maxWaitMs)) : command.del(key);
  write.catch((error: unknown) => {
    logger.warn(`${description}: batch setting not recorded for status tools: ${errorText(error)}`);
  });
}

/** Reads the batch setting under `key`; undefined when none was recorded (one message at a time). */
export async function readBatchSetting(client: RedisClient, key: string): Promise<BatchSetting | undefined> {
  const fields = await client.hgetall(key);
  const size = Number(fields.size);
  const maxWaitMs = Number(fields.maxWaitMs);
  // A hash some other writer left without these fields is not a batch setting.
  if (!Number.isInteger(size) || size < 1 || !Number.isFinite(maxWaitMs)) return undefined;
  return { size, maxWaitMs };
}

/** One cell for tables: `100 / 20 ms`; empty for a handler of one message at a time. */
export function batchSettingText(setting: BatchSetting | undefined): string {
  return setting ? `${setting.size} / ${setting.maxWaitMs} ms` : '';
}
