/**
 * What a batch handler may return to fail some of its messages only: the
 * others are acknowledged, each failed one is retried with backoff (or
 * dead-lettered) on its own, as if a one-message handler had thrown its
 * error. Returning anything else (or nothing) acknowledges the whole batch;
 * throwing fails the whole batch. Indexes are positions in the batch's
 * payload array.
 *
 * @example
 * ```ts
 * const result = new BatchResult();
 * rows.forEach((row, i) => { if (!saved[i]) result.fail(i, new Error('not saved')); });
 * return result;
 * ```
 * @publicApi
 */
export class BatchResult {
  private readonly failed = new Map<number, unknown>();

  /** A result failing the messages at `indexes` with the same `error`. */
  static failing(indexes: Iterable<number>, error: unknown): BatchResult {
    const result = new BatchResult();
    for (const index of indexes) result.fail(index, error);
    return result;
  }

  /**
   * Fails the message at `index` with `error` (a `NonRetryableError`
   * dead-letters it at once, as it does for a one-message handler). A later
   * call for the same index replaces its error.
   */
  fail(index: number, error: unknown): this {
    this.failed.set(index, error);
    return this;
  }

  /** The failed indexes and their errors. */
  get failures(): ReadonlyMap<number, unknown> {
    return this.failed;
  }
}

/**
 * The failure of each item of a batch of `size` (undefined: it succeeded),
 * from what the handler returned. An index outside the batch is an error of
 * the handler: the message names it, and the whole batch fails with it.
 */
export function batchFailures(value: unknown, size: number): { failures: (unknown[] | undefined); error?: Error } {
  if (!(value instanceof BatchResult) || value.failures.size === 0) return { failures: undefined };
  const failures = new Array<unknown>(size).fill(undefined);
  for (const [index, error] of value.failures) {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      return { failures: undefined, error: new RangeError(`BatchResult.fail(${index}): the batch has ${size} message(s), indexes 0 to ${size - 1}`) };
    }
    // An item failed with `undefined` still failed.
    failures[index] = error ?? new Error('failed by BatchResult');
  }
  return { failures };
}
