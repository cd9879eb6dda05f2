import { asBytes, type QueueDelivery } from './queue-delivery.js';

/** How one ack batch leaves the processing list. */
export interface AckPlan {
  /** Copies to cut from the list's oldest end (0: none). */
  trim: number;
  /** Deliveries to remove by their bytes (`LREM -1`: the oldest equal copy). */
  byBody: readonly QueueDelivery[];
  /** The others: cut by count, or without a copy in the list (their retry state is cleared by sha). */
  bySha: readonly QueueDelivery[];
}

/**
 * This consumer's processing list as its process knows it: its copies in
 * list order, oldest first, each standing for a delivery held here. While the
 * model is exact, an ack of the oldest copies cuts them by count (`LTRIM`)
 * instead of sending their bytes back for Redis to compare.
 *
 * Why it can stay exact while fetches run on another connection: a fetch only
 * pushes at the list's newest end, acks trim the oldest end, and every other
 * removal takes the oldest copy of equal bytes (`LREM -1`), which is the same
 * copy whatever was pushed meanwhile. Equal copies are interchangeable: when
 * `LREM` takes an older equal copy than a delivery's own, that older delivery
 * takes over the delivery's place.
 *
 * It stops being exact whenever Redis may have done something it did not
 * see: a command whose reply was lost, a dropped connection, a reaper that
 * returned the list to the queue (the ack script then refuses the trim). It
 * becomes exact again at the fetcher's next recovery, rebuilt from the list
 * itself while no other command of this consumer is sent.
 */
export class ProcessingListModel {
  private order: (QueueDelivery | undefined)[] = [];
  private head = 0;
  private exact = false;
  private rebuilding: Promise<void> | undefined;
  private rebuilt: (() => void) | undefined;
  /** Something was invalidated while the rebuild ran. */
  private spoiled = false;

  /**
   * The rebuild under way, if any. Commands that change the list wait until
   * there is none (`while (model.rebuild) await model.rebuild`), then plan
   * and send in the same synchronous run, before another rebuild can start.
   */
  get rebuild(): Promise<void> | undefined {
    return this.rebuilding;
  }

  /** Something happened that the model cannot follow: acks go by body until the next rebuild. */
  invalidate(): void {
    // During a rebuild (say the connection dropped after the list was read) the rebuild must not count.
    if (this.rebuilding) this.spoiled = true;
    if (!this.exact) return;
    this.exact = false;
    for (let i = this.head; i < this.order.length; i += 1) {
      const d = this.order[i];
      if (d) d.slot = -1;
    }
    this.order = [];
    this.head = 0;
  }

  /** A fetch put these at the list's newest end, oldest first (its reply order). */
  append(deliveries: readonly QueueDelivery[]): void {
    if (!this.exact) return;
    for (const d of deliveries) {
      d.slot = this.order.length;
      this.order.push(d);
    }
  }

  /**
   * Plans the ack of a batch and applies it to the model: the oldest copies,
   * as far as they all belong to the batch, go by count; the other copies by
   * body. Not exact: everything by body.
   */
  planAck(batch: readonly QueueDelivery[]): AckPlan {
    if (!this.exact) return { trim: 0, byBody: batch, bySha: [] };
    for (const d of batch) d.acking = true;
    const bySha: QueueDelivery[] = [];
    let trim = 0;
    let at = this.head;
    for (; at < this.order.length; at += 1) {
      const d = this.order[at];
      if (d === undefined) continue;
      if (!d.acking) break;
      d.acking = false;
      d.slot = -1;
      this.order[at] = undefined;
      bySha.push(d);
      trim += 1;
    }
    this.head = at;
    const byBody: QueueDelivery[] = [];
    for (const d of batch) {
      if (!d.acking) continue;
      d.acking = false;
      if (d.slot < 0) bySha.push(d);
      else {
        this.removeOldestEqual(d);
        byBody.push(d);
      }
    }
    this.compact();
    return { trim, byBody, bySha };
  }

  /**
   * A retry or dead letter of `delivery` is about to remove the oldest copy
   * equal to it. Returns false when it has no copy in the list (nothing must
   * be removed: another copy would go).
   */
  removeByBody(delivery: QueueDelivery): boolean {
    if (!this.exact) return true;
    if (delivery.slot < 0) return false;
    this.removeOldestEqual(delivery);
    this.compact();
    return true;
  }

  /** Holds back commands that change the list until `finishRebuild`. */
  startRebuild(): void {
    this.invalidate();
    this.spoiled = false;
    this.rebuilding ??= new Promise<void>((resolve) => (this.rebuilt = resolve));
  }

  /**
   * The list as read during the rebuild, oldest first, each copy with the
   * delivery it stands for (deliveries without a copy are left out). Pass
   * undefined when the read failed: the model stays inexact.
   */
  finishRebuild(entries: readonly QueueDelivery[] | undefined): void {
    if (entries && !this.spoiled) {
      this.order = [...entries];
      this.head = 0;
      for (let i = 0; i < this.order.length; i += 1) this.order[i]!.slot = i;
      this.exact = true;
    }
    const resolve = this.rebuilt;
    this.spoiled = false;
    this.rebuilding = undefined;
    this.rebuilt = undefined;
    resolve?.();
  }

  /** `LREM -1` takes the oldest copy equal to `delivery`; the delivery whose copy that was takes `delivery`'s place. */
  private removeOldestEqual(delivery: QueueDelivery): void {
    let oldest = delivery.slot;
    for (let at = this.head; at < delivery.slot; at += 1) {
      const other = this.order[at];
      if (other !== undefined && sameBytes(other, delivery)) {
        oldest = at;
        break;
      }
    }
    if (oldest !== delivery.slot) {
      const older = this.order[oldest]!;
      older.slot = delivery.slot;
      this.order[delivery.slot] = older;
    }
    this.order[oldest] = undefined;
    delivery.slot = -1;
    if (oldest === this.head) this.skipHoles();
  }

  private skipHoles(): void {
    while (this.head < this.order.length && this.order[this.head] === undefined) this.head += 1;
  }

  /** Drops the removed prefix once it is most of the array. */
  private compact(): void {
    this.skipHoles();
    if (this.head < 1024 && this.head * 2 < this.order.length) return;
    this.order = this.order.slice(this.head);
    this.head = 0;
    for (let i = 0; i < this.order.length; i += 1) {
      const d = this.order[i];
      if (d) d.slot = i;
    }
  }
}

function sameBytes(a: QueueDelivery, b: QueueDelivery): boolean {
  if (a.size !== b.size) return false;
  const x = a.body;
  const y = b.body;
  if (typeof x === 'string' && typeof y === 'string') return x === y;
  return asBytes(x).equals(asBytes(y));
}
