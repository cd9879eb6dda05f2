import { Logger } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { messages } from '../core/messages.js';
import type { MessageSource } from '../runtime/message-source.js';
import { errorText } from '../core/error-text.js';
import type { IdleConsumerPruner } from './idle-consumer.pruner.js';
import type { PendingReclaimer } from './pending.reclaimer.js';
import type { HeldFetch, RawStreamEntry, StreamEntry } from './stream-entry.js';

/** Where one group reader reads. */
export interface StreamGroupReaderTarget {
  /** Stream name without prefix, for logs. */
  name: string;
  /** The stream key first, then the group's requeue stream. */
  keys: readonly string[];
  group: string;
  consumer: string;
  startId: string;
  blockTimeoutMs: number;
}

/**
 * Reads one consumer group: due pending entries first (retries, takeovers),
 * after deleting the group's idle, empty consumers when that check is due,
 * then new ones with `XREADGROUP ... BLOCK ... COUNT n` on a connection of
 * its own. Creates the group when missing, at start and whenever Redis
 * answers `NOGROUP` (group or stream deleted, Redis restarted without
 * persistence). Entries stay pending in Redis until settled, so stopping
 * hands nothing back: what was not acked is reclaimed later.
 */
export class StreamGroupReader implements MessageSource<StreamEntry> {
  readonly description: string;
  private readonly logger = new Logger(StreamGroupReader.name);
  /**
   * Every fetch with an entry running or waiting in this process. Held per
   * fetch, not per entry: a set of ids churned by every entry (added, then
   * deleted) cost a rehash each time V8 grew or shrank it, more than any
   * other step of a batch consumer's own work. Lookups (the reclaimer's, the
   * idle refresher's) are rare: they scan.
   */
  private readonly held = new Set<HeldFetch>();
  /** `key id` of every held entry, built by the first lookup after a change. */
  private heldKeys: Set<string> | undefined;
  private groupsReady = false;

  constructor(
    private readonly target: StreamGroupReaderTarget,
    private readonly blocking: RedisClient,
    private readonly command: RedisClient,
    private readonly reclaimer: PendingReclaimer,
    private readonly pruner: IdleConsumerPruner,
    private readonly closeBlocking: () => Promise<void>,
  ) {
    this.description = `stream "${target.name}" group "${target.group}"`;
  }

  /** Whether this process holds the entry now. */
  isHeld(key: string, id: string): boolean {
    if (this.heldKeys === undefined) {
      this.heldKeys = new Set();
      this.eachHeld((entry) => this.heldKeys?.add(`${entry.key} ${entry.id}`));
    }
    return this.heldKeys.has(`${key} ${id}`);
  }

  /** The ids of the entries held now, by key. */
  heldIds(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    this.eachHeld((entry) => {
      const ids = out.get(entry.key);
      if (ids) ids.push(entry.id);
      else out.set(entry.key, [entry.id]);
    });
    return out;
  }

  /** A settled (or abandoned) entry is no longer held. */
  forget(entry: StreamEntry): void {
    const fetch = entry.heldIn;
    if (fetch === undefined) return;
    entry.heldIn = undefined;
    this.heldKeys = undefined;
    fetch.left -= 1;
    if (fetch.left === 0) this.held.delete(fetch);
    // A long run must not keep its settled neighbours (and their fields) in memory: a fetch
    // keeps at most twice the entries it still holds.
    else if (fetch.left * 2 <= fetch.entries.length) fetch.entries = fetch.entries.filter((e) => e.heldIn === fetch);
  }

  /** Nothing before the first fetch, which creates the groups: a Redis down at boot does not fail the boot. */
  async start(): Promise<void> {}

  async fetch(max: number): Promise<StreamEntry[]> {
    try {
      if (!this.groupsReady) await this.ensureGroups();
      await this.pruner.pruneIfDue();
      const due = await this.reclaimer.due(max);
      if (due.length > 0) return this.hold(due);
      return this.hold(await this.readNew(max));
    } catch (error) {
      if (!isNoGroup(error)) throw error;
      this.logger.warn(messages.streamGroupMissing(this.target.name, this.target.group, this.target.startId));
      this.groupsReady = false;
      await this.ensureGroups();
      return [];
    }
  }

  /** Unstarted entries stay pending in the group; another consumer reclaims them after `claimIdleMs`. */
  async handBack(entries: StreamEntry[]): Promise<void> {
    for (const entry of entries) this.forget(entry);
  }

  interrupt(): void {
    // Dropping the connection is safe: an entry XREADGROUP delivered before
    // the drop is in this consumer's pending list and is reclaimed.
    this.blocking.disconnect();
  }

  async stop(): Promise<void> {
    await this.closeBlocking();
  }

  /** `XGROUP CREATE ... MKSTREAM` on the stream and the requeue stream; an existing group is kept as it is. */
  private async ensureGroups(): Promise<void> {
    const { keys, group, startId } = this.target;
    for (const [i, key] of keys.entries()) {
      try {
        // The requeue stream only ever holds entries meant for this group: read it all.
        await this.command.xgroup('CREATE', key, group, i === 0 ? startId : '0', 'MKSTREAM');
      } catch (error) {
        if (!errorText(error).startsWith('BUSYGROUP')) throw error;
      }
    }
    this.groupsReady = true;
  }

  private async readNew(max: number): Promise<StreamEntry[]> {
    const { keys, group, consumer, blockTimeoutMs } = this.target;
    // Never block past the next due retry; BLOCK 0 would mean forever.
    const block = Math.max(1, Math.min(blockTimeoutMs, this.reclaimer.msUntilDue()));
    const reply = (await this.blocking.xreadgroup(
      'GROUP', group, consumer, 'COUNT', max, 'BLOCK', block, 'STREAMS', ...keys, ...keys.map(() => '>'),
    )) as [string, RawStreamEntry[]][] | null;
    if (!reply) return [];
    const out: StreamEntry[] = [];
    for (const [key, entries] of reply) {
      for (const [id, fields] of entries) out.push({ key, id, fields, deliveries: 1, requeued: key !== keys[0], heldIn: undefined });
    }
    return out;
  }

  private hold(entries: StreamEntry[]): StreamEntry[] {
    if (entries.length === 0) return entries;
    const fetch: HeldFetch = { entries, left: entries.length };
    for (const entry of entries) entry.heldIn = fetch;
    this.held.add(fetch);
    this.heldKeys = undefined;
    return entries;
  }

  private eachHeld(visit: (entry: StreamEntry) => void): void {
    for (const fetch of this.held) {
      for (const entry of fetch.entries) if (entry.heldIn === fetch) visit(entry);
    }
  }
}

function isNoGroup(error: unknown): boolean {
  return errorText(error).startsWith('NOGROUP');
}
