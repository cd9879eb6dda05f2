import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { StreamKeys } from '../keys.js';
import type { StreamEntry } from './stream-entry.js';

/** Why an entry went to the dead-letter stream. */
export type StreamDeadLetterReason = 'max-deliveries' | 'non-retryable' | 'validation' | 'unparsable';

/** What the settler records with a dead entry, besides the entry itself. */
export interface StreamDeadLetterDetails {
  reason: StreamDeadLetterReason;
  error: string;
  handler: string;
}

interface AckBatch {
  ids: string[];
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/**
 * Settles stream entries of one group consumer: acks are collected for one
 * tick and sent as one `XACK` per key; a failed entry stays pending with its
 * idle time reset, so its backoff counts from the failure; a dead entry is
 * copied and acked in one script.
 */
export class StreamSettler {
  private batches = new Map<string, AckBatch>();
  private scheduled = false;

  constructor(
    private readonly keys: StreamKeys,
    private readonly group: string,
    private readonly consumer: string,
    private readonly command: RedisClient,
    private readonly deadLetterMaxEntries: number,
  ) {}

  /** Acknowledges the entry; resolves once the batched `XACK` it rode in returned. */
  ack(entry: StreamEntry): Promise<void> {
    let batch = this.batches.get(entry.key);
    if (!batch) {
      batch = { ids: [], waiters: [] };
      this.batches.set(entry.key, batch);
    }
    batch.ids.push(entry.id);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return done;
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
    );
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.batches;
    this.batches = new Map();
    for (const [key, batch] of batches) {
      this.command.xack(key, this.group, ...batch.ids).then(
        () => batch.waiters.forEach((w) => w.resolve()),
        (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
      );
    }
  }
}
