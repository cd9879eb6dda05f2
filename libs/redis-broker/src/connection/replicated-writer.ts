import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import { ReplicationNotConfirmedError } from '../errors/replication-not-confirmed.error.js';
import { BROKER_DEFAULTS } from '../redis-broker.options.js';
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
 * queue behind a slow replica. A write during which the connection closed is
 * not confirmed: ioredis re-sends unanswered commands after a reconnect, and a
 * `WAIT` re-sent alone on a new connection counts replicas of nothing.
 *
 * On Cluster the pipeline goes to the node serving the key's slot. A `MOVED`
 * or `ASK` (slot being moved) is followed by hand: the write and its `WAIT`
 * are sent again together to the named node (after `ASKING` for `ASK`), since
 * ioredis does not retry a pipeline in which a non-read-only command (`WAIT`)
 * succeeded.
 */
export class ReplicatedWriter {
  private connection: RedisClient | undefined;
  /** Connections of the writer closed so far (on Cluster: any node's). */
  private closes = 0;

  constructor(private readonly open: () => RedisClient) {}

  private connect(): RedisClient {
    const client = this.open();
    const count = (): void => void (this.closes += 1);
    if (client instanceof Cluster) client.on('+node', (node: Redis) => node.on('close', count));
    else client.on('close', count);
    return client;
  }

  /**
   * Resolves to the replies of the step's commands once `wait.replicas`
   * replicas have them; rejects with `ReplicationNotConfirmedError` otherwise
   * (the write stays on the master).
   */
  async write(step: WriteStep, wait: ReplicationWait): Promise<unknown[]> {
    this.connection ??= this.connect();
    const client = this.connection;
    if (!(client instanceof Cluster)) return this.run(client.pipeline(), step, wait);
    let last: Error | undefined;
    let node: Redis | undefined;
    let asking = false;
    for (let attempt = 0; attempt < BROKER_DEFAULTS.replicatedWriteRedirections; attempt += 1) {
      const pipeline = node ? node.pipeline() : client.pipeline();
      if (asking) pipeline.asking();
      try {
        return await this.run(pipeline, step, wait, asking ? 1 : 0);
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
        node = undefined;
        asking = false;
        await new Promise((resolve) => setTimeout(resolve, BROKER_DEFAULTS.replicatedWriteRetryMs));
      }
    }
    throw last ?? new Error('replicated write: no attempt made');
  }

  private async run(pipeline: ChainableCommander, step: WriteStep, wait: ReplicationWait, skip = 0): Promise<unknown[]> {
    step(pipeline);
    pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
    const closes = this.closes;
    const results = (await pipeline.exec()) ?? [];
    const replies = results.slice(skip);
    for (const [error] of replies) if (error) throw error;
    const confirmed = Number(replies[replies.length - 1][1]);
    if (this.closes !== closes) throw new ReplicationNotConfirmedError(wait.replicas, 0, wait.timeoutMs, true);
    if (confirmed < wait.replicas) throw new ReplicationNotConfirmedError(wait.replicas, confirmed, wait.timeoutMs);
    return replies.slice(0, -1).map(([, reply]) => reply);
  }
}
