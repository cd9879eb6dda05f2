import { Logger } from '@nestjs/common';
import { messages } from '../core/messages.js';
import type { QueueKeys } from '../core/keys.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { errorText } from '../core/error-text.js';
import { onConnectionClose } from '../core/redis/close-listeners.js';
import type { MessageSource } from '../runtime/message-source.js';
import { HeldDeliveries } from './held-deliveries.js';
import type { ConsumerHeartbeat } from './processing-list.reaper.js';
import { ProcessingListModel } from './processing-list.model.js';
import { ackArguments, sha1, toDeliveries, type QueueDelivery } from './queue-delivery.js';

/**
 * Reliable fetch: messages move atomically from the queue into this
 * consumer's processing list (a script for a batch: `RPOP` with a count,
 * `LPUSH`; `BLMOVE` to wait) and leave it only when settled. Whatever is in
 * the processing list is never lost: the consumer hands it back on stop, the
 * reaper when it dies, and `recover` when a reply was lost with a dropped
 * connection.
 */
export class ReliableListFetcher implements MessageSource<QueueDelivery> {
  readonly description: string;
  private readonly logger = new Logger(ReliableListFetcher.name);
  private readonly processing: string;
  private readonly waiting: string;
  private readonly alive: string;
  /** The processing list as this process knows it; the settler acks by count while it is exact. */
  readonly model = new ProcessingListModel();
  /** Deliveries held in memory (running, waiting, or being acked). */
  private readonly held = new HeldDeliveries();
  /** Handled deliveries whose ack failed: acked at the next recovery instead of run again. */
  private unacked: QueueDelivery[] = [];
  private needsRecovery = true;
  private registered = false;
  /** Ends this fetcher's calls from the command connection's `close` (at stop). */
  private readonly stopCloseWatch: () => void;
  /** The last fetch emptied the queue: the next one blocks at once (one round trip less on wake-up). */
  private drained = false;

  constructor(
    private readonly keys: QueueKeys,
    private readonly consumerId: string,
    private readonly blocking: RedisClient,
    private readonly command: RedisClient,
    private readonly blockTimeoutMs: number,
    private readonly closeBlocking: () => Promise<void>,
    /** This consumer's heartbeat; stopped before the release, so no heartbeat can land after it. */
    private readonly heartbeat: ConsumerHeartbeat,
  ) {
    this.description = `queue "${keys.queue}"`;
    this.processing = keys.processing(consumerId);
    this.waiting = keys.waiting(consumerId);
    this.alive = keys.alive(consumerId);
    // ioredis re-sends a BLMOVE that was in flight when the connection
    // dropped; if Redis had already run the first one, its message sits in
    // the processing list with its reply lost. Look after every reconnect.
    // A drop of the command connection may have lost the reply of an ack, or
    // (a Redis restart) the write itself: the model is rebuilt either way.
    blocking.on('close', () => this.markForRecovery());
    // The command connection is shared by every consumer of the app: one listener on it for all.
    this.stopCloseWatch = onConnectionClose(command, () => this.markForRecovery());
  }

  /** Nothing to do before the first fetch, which registers (so a Redis down at boot does not fail the boot). */
  async start(): Promise<void> {}

  /** `startable`: how many of the fetched messages start at once; the fetch script records the others as waiting. */
  async fetch(max: number, startable = 0): Promise<QueueDelivery[]> {
    try {
      if (!this.registered || this.heartbeat.failing) {
        // Registered before the first message is taken: a consumer that dies
        // holding messages is always known to the reaper. And one whose
        // heartbeat fails takes nothing new until a heartbeat lands: the
        // other processes may presume it dead and return what it holds.
        await this.heartbeat.beat().catch((error: unknown) => {
          throw new Error(messages.heartbeatFailed(this.keys.queue, errorText(error)), { cause: error });
        });
        this.registered = true;
      }
      // At start too: a previous life of this consumer id may have left messages.
      if (this.needsRecovery) {
        this.needsRecovery = false;
        const orphans = await this.recover();
        if (orphans.length > 0) return orphans;
      }
      const { list, attempts, deaths } = this.keys;
      const { processing, waiting } = this;
      let deliveries = this.drained ? [] : toDeliveries(await this.blocking.nrbFetchBuffer(list, processing, attempts, deaths, waiting, 'reliable', max, startable));
      if (deliveries.length === 0) {
        const taken = await this.blocking.blmoveBuffer(list, this.processing, 'RIGHT', 'LEFT', this.blockTimeoutMs / 1000);
        if (!taken) {
          this.drained = true;
          return [];
        }
        deliveries = toDeliveries(await this.blocking.nrbFetchBuffer(list, processing, attempts, deaths, waiting, 'reliable', max - 1, startable, taken));
      }
      this.drained = deliveries.length < max;
      this.model.append(deliveries);
      return this.hold(deliveries);
    } catch (error) {
      // A reply may have been lost with the connection: the message would sit
      // in the processing list unknown to us until we look.
      this.markForRecovery();
      throw error;
    }
  }

  /** Marks that the processing list may hold what this process does not know of (e.g. a failed ack). */
  markForRecovery(): void {
    this.needsRecovery = true;
    this.model.invalidate();
  }

  /**
   * Its handler succeeded but the ack did not return (connection lost, a
   * failover): the ack may or may not have run. The next recovery compares
   * the processing list with what this process holds and acks the copies
   * still there, so a lost ack reply costs no second run.
   */
  ackLater(delivery: QueueDelivery): void {
    this.forget(delivery);
    this.unacked.push(delivery);
    this.markForRecovery();
  }

  /** A delivery was settled (or handed back): it is no longer held. */
  forget(delivery: QueueDelivery): void {
    this.held.delete(delivery);
  }

  /** They are still in the processing list, which `stop` hands back whole. */
  async handBack(deliveries: QueueDelivery[]): Promise<void> {
    for (const delivery of deliveries) this.forget(delivery);
  }

  interrupt(): void {
    // Dropping the connection is safe here: a message BLMOVE took before the
    // drop is in the processing list, and `stop` hands that list back.
    this.blocking.disconnect();
  }

  async stop(): Promise<void> {
    await this.closeBlocking();
    // Handled messages must not go back to the queue with the rest.
    if (this.unacked.length > 0) {
      try {
        await this.recover();
      } catch (error) {
        this.logger.warn(messages.unackedHandedBack(this.keys.queue, this.unacked.length, String(error)));
      }
    }
    // A heartbeat tick that ran after the release would re-add this consumer
    // to the consumers set: a ghost the reaper later "reaps".
    await this.heartbeat.stop();
    const { list, consumers } = this.keys;
    await this.command.nrbRelease(list, this.processing, this.waiting, consumers, this.alive, this.consumerId);
    this.stopCloseWatch();
  }

  private hold(deliveries: QueueDelivery[]): QueueDelivery[] {
    for (const d of deliveries) this.held.add(d);
    return deliveries;
  }

  /**
   * Reconciles the processing list with this process: copies it holds are
   * left alone, copies whose ack failed are acked now, and anything else (a
   * reply lost with the connection) is returned to run. Copies of equal bytes
   * are matched by count, so a running copy is never acked by mistake. The
   * list is read on the command connection, the one acks travel on, with the
   * settler's commands held back meanwhile, so the model of the list is
   * rebuilt from exactly what Redis has.
   */
  private async recover(): Promise<QueueDelivery[]> {
    this.model.startRebuild();
    let entries: QueueDelivery[] | undefined;
    try {
      const adopted = await this.reconcile();
      entries = adopted.entries;
      return adopted.orphans;
    } finally {
      this.model.finishRebuild(entries);
    }
  }

  private async reconcile(): Promise<{ entries: QueueDelivery[]; orphans: QueueDelivery[] }> {
    // Newest first as read; the model wants the oldest first.
    const inList = ((await this.command.nrbSnapshotBuffer(this.processing, this.alive))).reverse();
    const shas = inList.map((body) => sha1(body));
    const heldBySha = groupBySha([...this.held].filter((d) => !d.leaving));
    const owed = this.unacked;
    this.unacked = [];
    const owedBySha = groupBySha(owed);
    // Per message: copies beyond what this process holds are owed acks (they
    // go first: an ack takes the oldest equal copies), then orphans.
    const present = new Map<string, number>();
    for (const sha of shas) present.set(sha, (present.get(sha) ?? 0) + 1);
    const toAck: QueueDelivery[] = [];
    const ackedCopies = new Map<string, number>();
    for (const [sha, count] of present) {
      const spare = Math.max(0, count - (heldBySha.get(sha)?.length ?? 0));
      const debts = owedBySha.get(sha) ?? [];
      const paid = Math.min(spare, debts.length);
      toAck.push(...debts.slice(0, paid));
      if (paid > 0) ackedCopies.set(sha, paid);
    }
    if (toAck.length > 0) {
      const { attempts, deaths } = this.keys;
      try {
        await this.command.nrbAck(this.processing, attempts, deaths, this.alive, 0, '', ...ackArguments(toAck, () => true));
      } catch (error) {
        this.unacked.push(...owed);
        throw error;
      }
    }
    if (owed.length > 0) this.logger.warn(messages.acksResent(this.keys.queue, toAck.length, owed.length - toAck.length));
    // What stays, oldest first: each copy stands for a delivery held here, or is an orphan.
    const slots: (QueueDelivery | Buffer)[] = [];
    for (let i = 0; i < inList.length; i += 1) {
      const sha = shas[i];
      const acked = ackedCopies.get(sha) ?? 0;
      if (acked > 0) {
        ackedCopies.set(sha, acked - 1);
        continue;
      }
      slots.push(heldBySha.get(sha)?.pop() ?? inList[i]);
    }
    const orphanBodies = slots.filter((slot): slot is Buffer => Buffer.isBuffer(slot));
    let orphans: QueueDelivery[] = [];
    if (orphanBodies.length > 0) {
      this.logger.warn(messages.recovered(this.keys.queue, orphanBodies.length));
      const { list, attempts, deaths } = this.keys;
      // Recorded as waiting here: the settler marks each started when it runs.
      const reply = await this.command.nrbFetchBuffer(list, this.processing, attempts, deaths, this.waiting, 'reliable', 0, 0, ...orphanBodies);
      orphans = this.hold(toDeliveries(reply));
    }
    let next = 0;
    const entries = slots.map((slot) => (Buffer.isBuffer(slot) ? orphans[next++] : slot));
    return { entries, orphans };
  }
}

function groupBySha(deliveries: readonly QueueDelivery[]): Map<string, QueueDelivery[]> {
  const out = new Map<string, QueueDelivery[]>();
  for (const d of deliveries) {
    const same = out.get(d.sha);
    if (same) same.push(d);
    else out.set(d.sha, [d]);
  }
  return out;
}
