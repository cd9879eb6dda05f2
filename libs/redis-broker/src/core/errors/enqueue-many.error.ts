/**
 * Rejection of `BrokerClient.enqueueMany`. A call is one Redis transaction
 * (`MULTI`, one `LPUSH` per 1000 payloads, `EXEC`): Redis stores the whole
 * batch or none of it, never a part. `stored` says which happened.
 *
 * @example
 * ```ts
 * try {
 *   await broker.enqueueMany('emails', batch);
 * } catch (error) {
 *   if (error instanceof EnqueueManyError && error.stored === 0) await broker.enqueueMany('emails', batch); // nothing landed: safe to retry
 *   else throw error;
 * }
 * ```
 * @publicApi
 */
export class EnqueueManyError extends Error {
  override readonly name = 'EnqueueManyError';

  constructor(
    message: string,
    /** The queue of the call. */
    readonly queue: string,
    /** How many payloads the call had. */
    readonly count: number,
    /**
     * How many of them Redis stored: `0` when Redis refused the batch (e.g.
     * `OOM` at `maxmemory`, `WRONGTYPE`), so retrying the whole call stores
     * each payload once; `null` when unknown, because the connection failed
     * while the batch was on its way: Redis then stored all of it or none.
     */
    readonly stored: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
