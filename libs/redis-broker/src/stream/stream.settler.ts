import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { StreamKeys } from '../core/keys.js';
import type { StreamEntry } from './stream-entry.js';

/**
 * Why an entry went to the dead-letter stream.
 * @publicApi
 */
export type StreamDeadLetterReason = 'max-deliveries' | 'non-retryable' | 'validation' | 'unparsable' | 'too-large' | 'timeout';

/** What the settler records with a dead entry, besides the entry itself. */
export interface StreamDeadLetterDetails {
  reason: StreamDeadLetterReason;
  error: string;
  handler: string;
}

interface AckBatch {
  key: string;
  ids: string[];
  /** Shared by every entry of the batch: settles when its `XACK` lands, or is given up. */
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Settles stream entries of one group consumer: acks are collected for one
 * tick and sent as one `XACK` per key; a failed entry stays pending with its
 * idle time reset, so its backoff counts from the failure; a dead entry is
 * copied and acked in one script. An entry of the group's requeue stream is
 * deleted with its ack (only this group reads that stream, so nobody needs
 * it once acked): the requeue stream holds only entries not settled yet.
 */
export class StreamSettler {
  private batches = new Map<string, AckBatch>();
  private scheduled = false;
  private closed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly abandon = new Set<() => void>();
  private readonly requeueKey: string;

  constructor(
    private readonly keys: StreamKeys,
    private readonly group: string,
    private readonly consumer: string,
    private readonly command: RedisClient,
    private readonly deadLetterMaxEntries: number,
  ) {
    this.requeueKey = keys.requeue(group);
  }

  /**
   * Acknowledges the entry; resolves once the batched `XACK` it rode in
   * returned. `XACK` is idempotent, so a failed one (a dropped connection,
   * a failover) is re-sent with backoff until it lands, rather than leaving
   * a handled entry to be reclaimed and run again; only `close` (shutdown)
   * or a group that no longer exists ends the attempts with a rejection.
   */
  ack(entry: StreamEntry): Promise<void> {
    const batch = this.batchOf(entry.key);
    batch.ids.push(entry.id);
    return batch.done;
  }

  /** `ack` for many entries: one promise, settled when the `XACK` (or both, with requeued entries) they rode in did. */
  ackAll(entries: readonly StreamEntry[]): Promise<void> {
    let first: AckBatch | undefined;
    let second: AckBatch | undefined;
    for (const entry of entries) {
      // Keys are the stream and its requeue stream: two batches at most.
      const batch = first !== undefined && entry.key === first.key ? first : this.batchOf(entry.key);
      batch.ids.push(entry.id);
      if (first === undefined) first = batch;
      else if (batch !== first) second = batch;
    }
    if (first === undefined) return Promise.resolve();
    return second === undefined ? first.done : Promise.all([first.done, second.done]).then(() => undefined);
  }

  /**
   * Leaves a failed entry pending for redelivery. `XCLAIM ... JUSTID` to
   * ourselves sets its idle time to 0 without counting a delivery, so the
   * reclaimer sees it due once `backoff` has passed since the failure.
   */
  async retry(entry: StreamEntry): Promise<void> {
    await this.command.call('XCLAIM', entry.key, this.group, this.consumer, 0, entry.id, 'JUSTID');
  }

  /** Copies the entry to the group's dead-letter stream and acks it, atomically; resolves to the dead-letter id. */
  async deadLetter(entry: StreamEntry, details: StreamDeadLetterDetails): Promise<string> {
    return this.command.nrbStreamDeadLetter(
      entry.key, this.keys.deadLetter(this.group),
      this.group, entry.id, JSON.stringify(entry.fields), details.reason, details.error,
      entry.deliveries, this.consumer, details.handler, this.keys.name, this.deadLetterMaxEntries,
      entry.key === this.requeueKey ? 1 : 0,
    );
  }

  /** `XACK`, and for the requeue stream `XDEL` in the same transaction; both are idempotent, so a failed one is re-sent whole. */
  private async ackCommand(key: string, ids: string[]): Promise<void> {
    if (key !== this.requeueKey) {
      await this.command.xack(key, this.group, ...ids);
      return;
    }
    const results = await this.command.multi().xack(key, this.group, ...ids).xdel(key, ...ids).exec();
    if (!results) throw new Error(`the transaction acknowledging ${ids.length} requeued entr${ids.length === 1 ? 'y' : 'ies'} was discarded`);
    for (const [error] of results) if (error) throw error;
  }

  /** The `XACK` batch of `key` being gathered this tick, the tick's flush scheduled. */
  private batchOf(key: string): AckBatch {
    let batch = this.batches.get(key);
    if (!batch) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      batch = { key, ids: [], done, resolve, reject };
      this.batches.set(key, batch);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return batch;
  }

  /** Ends the re-sending of failed acks: their entries stay pending, to be reclaimed. */
  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const give of [...this.abandon]) give();
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.batches;
    this.batches = new Map();
    for (const [key, batch] of batches) this.send(key, batch, BROKER_DEFAULTS.ackRetryMs.initial);
  }

  private send(key: string, batch: AckBatch, nextDelayMs: number): void {
    this.ackCommand(key, batch.ids).then(
      () => batch.resolve(),
      (error: unknown) => {
        const fail = (): void => batch.reject(error);
        if (this.closed || String(error).includes('NOGROUP')) return fail();
        const give = (): void => {
          this.abandon.delete(give);
          fail();
        };
        this.abandon.add(give);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          this.abandon.delete(give);
          this.send(key, batch, Math.min(nextDelayMs * 2, BROKER_DEFAULTS.ackRetryMs.max));
        }, nextDelayMs);
        this.retryTimers.add(timer);
      },
    );
  }
}
