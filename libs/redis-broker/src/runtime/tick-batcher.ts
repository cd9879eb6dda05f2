/**
 * Collects items added during one turn of the event loop and hands them to
 * `flush` together, so many messages settle in one Redis round trip instead
 * of one each. Every `add` of a batch returns the same promise, which
 * settles as the call its items rode in did: callers keep their
 * per-message guarantees without a promise per message. `schedule` decides
 * when the turn ends: `queueMicrotask` joins what one synchronous run adds
 * (the starts of one fetched batch), `setImmediate` also joins what finishes
 * in the same I/O callback (handlers completing together).
 */
export class TickBatcher<T> {
  private items: T[] = [];
  private pending: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly flush: (items: T[]) => Promise<unknown>,
    private readonly schedule: (run: () => void) => void,
  ) {}

  /** Items added and not flushed yet, plus items of calls not returned yet. */
  private get busy(): boolean {
    return this.pending !== undefined || this.inFlight.size > 0;
  }

  add(item: T): Promise<void> {
    this.items.push(item);
    this.pending ??= this.open();
    return this.pending;
  }

  /** Resolves once every item added so far has been flushed and its call returned (whatever the outcome). */
  async settled(): Promise<void> {
    while (this.busy) {
      await Promise.allSettled(this.pending ? [this.pending, ...this.inFlight] : this.inFlight);
    }
  }

  private open(): Promise<void> {
    const batch = new Promise<void>((resolve, reject) => {
      this.schedule(() => {
        const { items } = this;
        this.items = [];
        this.pending = undefined;
        this.inFlight.add(batch);
        // A synchronous throw of `flush` rejects the batch like a failed call.
        new Promise<unknown>((run) => run(this.flush(items))).then(() => resolve(), reject);
      });
    });
    const forget = (): void => {
      this.inFlight.delete(batch);
    };
    // Also marks a rejection as handled: each caller sees it through its own await.
    batch.then(forget, forget);
    return batch;
  }
}
