import { messages } from '../messages.js';

/**
 * Rejects an `enqueue` or `append` made with `replicas: n` when fewer than
 * `n` replicas confirmed the write within `replicasTimeoutMs`, or when the
 * connection closed before they did. The write is stored on the master (or,
 * with `connectionLost`, may be) but may be lost if that master fails before
 * it replicates; sending it again may deliver it twice.
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
    /** The connection closed before `WAIT` answered: the write may or may not be stored. */
    readonly connectionLost = false,
  ) {
    super(connectionLost ? messages.replicationConnectionLost(replicas) : messages.replicationNotConfirmed(replicas, confirmed, timeoutMs));
  }
}
