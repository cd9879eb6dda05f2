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
 * queue behind a slow replica. A write whose `WAIT` was cut by a closed
 * connection is not confirmed (a `WAIT` re-sent alone on a new connection
 * would count replicas of nothing).
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
  /** Per connection used, how many times it closed: a pipeline that spans a close is not confirmed. */
  private readonly closes = new WeakMap<Redis, number>();

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
    if (!this.closes.has(connection)) {
      this.closes.set(connection, 0);
      connection.on('close', () => this.closes.set(connection, (this.closes.get(connection) ?? 0) + 1));
    }
    const closesBefore = this.closes.get(connection);
    const pipeline = connection.pipeline();
    if (asking) pipeline.asking();
    step(pipeline);
    pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
    const replies = ((await pipeline.exec()) ?? []).slice(asking ? 1 : 0);
    const [waitError, waitReply] = replies[replies.length - 1];
    for (const [error] of replies.slice(0, -1)) if (error) throw error;
    // The write was answered and WAIT was not: ioredis aborts the rest of a
    // pipeline cut by a closed connection rather than re-sending it alone.
    if (waitError?.name === 'AbortError') throw new ReplicationNotConfirmedError(wait.replicas, 0, wait.timeoutMs, true);
    if (waitError) throw waitError;
    // The connection closed while the pipeline ran: ioredis may have re-sent
    // WAIT alone on the new connection, where it counts replicas of nothing
    // (seen: a master restarted empty, its WAIT answered 1 for a lost write).
    if (this.closes.get(connection) !== closesBefore) throw new ReplicationNotConfirmedError(wait.replicas, 0, wait.timeoutMs, true);
    const confirmed = Number(waitReply);
    if (confirmed < wait.replicas) throw new ReplicationNotConfirmedError(wait.replicas, confirmed, wait.timeoutMs);
    return replies.slice(0, -1).map(([, reply]) => reply);
  }
}
