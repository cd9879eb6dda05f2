import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import { ReplicationNotConfirmedError } from '../errors/replication-not-confirmed.error.js';
import { BROKER_DEFAULTS } from '../options/broker-defaults.js';
import type { RedisClient } from './redis-connection.factory.js';

/** How many replicas must confirm a write, and how long to wait for them. */
export interface ReplicationWait {
  replicas: number;
  timeoutMs: number;
}

/** Adds the write's command(s) to a pipeline; the writer appends `WAIT`. */
export type WriteStep = (pipeline: ChainableCommander) => void;

const REDIRECT = /^(MOVED|ASK) \d+ (\S+)$/;
const RETRY_LATER = /^(TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Runs a write followed by `WAIT replicas timeout` in one pipeline on one
 * connection, so `WAIT` counts the replicas that have this very write (it
 * waits for the offset of the connection's last write). The connection is its
 * own: `WAIT` blocks it, and acks on the shared command connection must not
 * queue behind a slow replica. When the connection closes after some of the
 * pipeline's replies came, ioredis aborts the rest (it never re-sends `WAIT`
 * alone, which would count replicas of nothing): the write is not confirmed
 * (`connectionLost`). A pipeline cut before its first reply is re-sent whole
 * on the new connection, where `WAIT` counts the re-sent write.
 *
 * On Cluster the pipeline is sent on the Cluster client's own link to the
 * master of the key's slot (not through the Cluster pipeline, which does not
 * say which node ran it and is not retried once `WAIT` succeeded). A `MOVED`
 * or `ASK` (slot being moved) sends the write and its `WAIT` again together to
 * the named node, after `ASKING` for `ASK`; `TRYAGAIN` waits and starts over.
 */
export class ReplicatedWriter {
  private connection: RedisClient | undefined;
  private readonly slots = new Map<string, number>();

  constructor(private readonly open: () => RedisClient) {}

  /**
   * Resolves to the replies of the step's commands (all on `key`'s slot) once
   * `wait.replicas` replicas have them; rejects with
   * `ReplicationNotConfirmedError` otherwise (the write stays on the master).
   */
  async write(key: string, step: WriteStep, wait: ReplicationWait): Promise<unknown[]> {
    this.connection ??= this.open();
    const client = this.connection;
    if (!(client instanceof Cluster)) return this.run(client, step, wait, false);
    let last: Error | undefined;
    let node: Redis | undefined;
    let asking = false;
    for (let attempt = 0; attempt < BROKER_DEFAULTS.replicatedWriteRedirections; attempt += 1) {
      node ??= await this.masterOf(client, key);
      if (node) {
        try {
          return await this.run(node, step, wait, asking);
        } catch (error) {
          if (!(error instanceof Error) || error instanceof ReplicationNotConfirmedError) throw error;
          last = error;
          const redirect = REDIRECT.exec(error.message);
          if (redirect) {
            asking = redirect[1] === 'ASK';
            if (!asking) client.refreshSlotsCache();
            node = client.nodes('master').find((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}` === redirect[2]);
            if (node) continue;
          } else if (!RETRY_LATER.test(error.message)) {
            throw error;
          }
        }
      }
      node = undefined;
      asking = false;
      await new Promise((resolve) => setTimeout(resolve, BROKER_DEFAULTS.replicatedWriteRetryMs));
    }
    throw last ?? new Error(`No Cluster master serves the slot of "${key}"`);
  }

  /** The Cluster client's link to the master of `key`'s slot as its slot map has it; `undefined` when the map has none yet. */
  private async masterOf(cluster: Cluster, key: string): Promise<Redis | undefined> {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
      this.slots.set(key, slot);
    }
    const nodeKey = cluster.slots[slot]?.[0];
    return cluster.nodes('master').find((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}` === nodeKey);
  }

  private async run(connection: Redis, step: WriteStep, wait: ReplicationWait, asking: boolean): Promise<unknown[]> {
    const pipeline = connection.pipeline();
    if (asking) pipeline.asking();
    step(pipeline);
    pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
    const replies = ((await pipeline.exec()) ?? []).slice(asking ? 1 : 0);
    const aborted = (error: Error | null): boolean => error?.name === 'AbortError';
    // A write Redis answered with an error: that error says what failed.
    for (const [error] of replies.slice(0, -1)) if (error && !aborted(error)) throw error;
    // The connection closed after part of the pipeline was answered: ioredis
    // aborts the unanswered rest rather than re-sending it, so the write may
    // or may not be stored and WAIT did not count it.
    if (replies.some(([error]) => aborted(error))) throw new ReplicationNotConfirmedError(wait.replicas, 0, wait.timeoutMs, true);
    const [waitError, waitReply] = replies[replies.length - 1];
    if (waitError) throw waitError;
    const confirmed = Number(waitReply);
    if (confirmed < wait.replicas) throw new ReplicationNotConfirmedError(wait.replicas, confirmed, wait.timeoutMs);
    return replies.slice(0, -1).map(([, reply]) => reply);
  }
}
