interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items added during one turn of the event loop and hands them to
 * `flush` together, so many messages settle in one Redis round trip instead
 * of one each. Every `add` resolves (or rejects) with the call its item rode
 * in, so callers keep their per-message guarantees. `schedule` decides when
 * the turn ends: `queueMicrotask` joins what one synchronous run adds (the
 * starts of one fetched batch), `setImmediate` also joins what finishes in
 * the same I/O callback (handlers completing together).
 */
export class TickBatcher<T> {
  private items: T[] = [];
  private waiters: Waiter[] = [];

  constructor(
    private readonly flush: (items: T[]) => Promise<unknown>,
    private readonly schedule: (run: () => void) => void,
  ) {}

  add(item: T): Promise<void> {
    if (this.items.length === 0) this.schedule(() => this.send());
    this.items.push(item);
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private send(): void {
    const { items, waiters } = this;
    this.items = [];
    this.waiters = [];
    // A synchronous throw of `flush` rejects the batch like a failed call.
    new Promise<unknown>((resolve) => resolve(this.flush(items))).then(
      () => waiters.forEach((w) => w.resolve()),
      (error: unknown) => waiters.forEach((w) => w.reject(error)),
    );
  }
}
