/**
 * Gathers messages into batches for a batch handler: a batch runs as soon
 * as it holds `size` messages, or `maxWaitMs` after its first message
 * arrived, whichever comes first (with `maxWaitMs` 0, at the end of the
 * synchronous run that added it: what one fetch returned). Every message of
 * a batch gets the same promise, settled when the batch's run is: the
 * consumer loop's slots of a batch free together. A `solo` message (one
 * suspected of crashing its process) runs as a batch of its own.
 */
export class BatchCollector<M> {
  private items: M[] = [];
  private pending: { promise: Promise<void>; resolve: () => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly size: number,
    private readonly maxWaitMs: number,
    /** Runs one batch to its settlement; must not reject. */
    private readonly run: (items: M[]) => Promise<void>,
  ) {}

  /** Messages gathered and not run yet. */
  get gathered(): number {
    return this.items.length;
  }

  add(item: M, solo = false): Promise<void> {
    if (solo) return this.run([item]);
    this.items.push(item);
    const pending = this.open();
    if (this.items.length >= this.size) this.flush();
    else if (this.items.length === 1) this.arm();
    return pending;
  }

  /** Shutdown: what is gathered runs now, and every later message without waiting for more. */
  close(): void {
    this.closing = true;
    this.flush();
  }

  private open(): Promise<void> {
    if (this.pending) return this.pending.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((res) => (resolve = res));
    this.pending = { promise, resolve };
    return promise;
  }

  private arm(): void {
    if (this.closing || this.maxWaitMs === 0) {
      // Joins the rest of the fetched messages, which the loop submits in one synchronous run.
      queueMicrotask(() => this.flush());
      return;
    }
    this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { items, pending } = this;
    if (items.length === 0 || !pending) return;
    this.items = [];
    this.pending = undefined;
    void this.run(items).then(pending.resolve, pending.resolve);
  }
}
