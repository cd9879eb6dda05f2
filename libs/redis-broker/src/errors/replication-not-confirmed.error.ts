import { messages } from '../messages.js';

/**
 * Rejects an `enqueue` or `append` made with `replicas: n` when fewer than
 * `n` replicas confirmed the write within `replicasTimeoutMs`. The write is
 * stored on the master but may be lost if that master fails before it
 * replicates; sending it again is safe only if handlers tolerate a duplicate.
 * @publicApi
 */
export class ReplicationNotConfirmedError extends Error {
  override readonly name = 'ReplicationNotConfirmedError';

  constructor(
    /** Replicas asked for. */
    readonly replicas: number,
    /** Replicas that confirmed in time (what `WAIT` returned). */
    readonly confirmed: number,
    /** How long `WAIT` waited, in ms. */
    readonly timeoutMs: number,
  ) {
    super(messages.replicationNotConfirmed(replicas, confirmed, timeoutMs));
  }
}
