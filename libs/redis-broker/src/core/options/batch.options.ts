import { BROKER_DEFAULTS } from './broker-defaults.js';
import { expectRecord, fail, int, rejectUnknown } from './option-checks.js';

/**
 * `batch` of a `@QueueHandler` or `@StreamConsumer`: the handler receives
 * up to `size` messages at once, as an array, gathered for at most
 * `maxWaitMs` after the first of them arrived (whichever comes first). See
 * docs/batches.md.
 * @publicApi
 */
export interface BatchOptions {
  /** Most messages in one call of the handler, from 1 to `BROKER_DEFAULTS.batch.maxSize` (10000). */
  size: number;
  /**
   * Longest a partial batch waits for more messages after its first one
   * arrived, in ms; 0 runs what one fetch returned at once. Default
   * `BROKER_DEFAULTS.batch.maxWaitMs` (20).
   */
  maxWaitMs?: number;
}

/** Batch options with every default applied. */
export type ResolvedBatchOptions = Required<BatchOptions>;

const BATCH_KEYS = ['size', 'maxWaitMs'] as const;

/** Validates `batch` of one handler (`path` names it in errors); undefined when the handler takes one message at a time. */
export function resolveBatchOptions(path: string, raw: BatchOptions | undefined): ResolvedBatchOptions | undefined {
  if (raw === undefined) return undefined;
  expectRecord(path, raw);
  rejectUnknown(`${path}.`, raw, BATCH_KEYS);
  const { maxSize, maxWaitMs, maxWaitLimitMs } = BROKER_DEFAULTS.batch;
  // `size` has no default: a batch handler states how many it can take.
  if (raw.size === undefined) fail(`${path}.size`, undefined, `a whole number from 1 to ${maxSize}`);
  const size = int(`${path}.size`, raw.size, 0, 1, maxSize);
  return { size, maxWaitMs: int(`${path}.maxWaitMs`, raw.maxWaitMs, maxWaitMs, 0, maxWaitLimitMs) };
}

/**
 * Messages a batch consumer holds at once: `concurrency` batches, each up
 * to `size`, or `prefetch` when that is larger.
 */
export function batchWindow(batch: ResolvedBatchOptions, options: { prefetch: number; concurrency: number }): number {
  return Math.max(options.prefetch, batch.size * options.concurrency);
}
