import type { QueueDelivery } from './queue-delivery.js';

/**
 * The deliveries a reliable fetcher holds in memory (running, waiting, or
 * being acked): an array with swap-remove, each delivery knowing its slot.
 *
 * Not a `Set`: V8 rehashes a Set's table as entries come and go, and a
 * replaced table that had been promoted to the old generation still points
 * at the deliveries it held, so every scavenge kept them alive until they
 * were promoted too. Draining 1M messages that promoted about 350 MB of
 * garbage; this array, whose vacated slots are cleared, about 25 MB.
 */
export class HeldDeliveries {
  private readonly items: QueueDelivery[] = [];

  add(delivery: QueueDelivery): void {
    if (delivery.heldAt >= 0) return;
    delivery.heldAt = this.items.length;
    this.items.push(delivery);
  }

  delete(delivery: QueueDelivery): void {
    const at = delivery.heldAt;
    if (at < 0 || this.items[at] !== delivery) return;
    const last = this.items.pop()!;
    if (last !== delivery) {
      this.items[at] = last;
      last.heldAt = at;
    }
    delivery.heldAt = -1;
  }

  [Symbol.iterator](): IterableIterator<QueueDelivery> {
    return this.items[Symbol.iterator]();
  }
}
