interface Entry<M> {
  item: M;
  solo: boolean;
}

/**
 * Runs at most `limit` items at once, in submission order, through `run`. A
 * `solo` item waits until nothing else runs and holds back the items behind
 * it while it runs: a message suspected of crashing its process runs alone,
 * so a crash blames it and not its neighbours. `run` must not reject; it
 * returns undefined when the item finished synchronously.
 */
export class ConcurrencyLimiter<M> {
  private running = 0;
  private soloRunning = false;
  /** Solo items among `waiting`. */
  private soloWaiting = 0;
  private readonly waiting: Entry<M>[] = [];
  private listeners: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly run: (item: M) => Promise<void> | undefined,
  ) {}

  /** Items running plus items waiting. */
  get size(): number {
    return this.running + this.waiting.length;
  }

  /** Items running now. */
  get active(): number {
    return this.running;
  }

  /** Whether a solo item runs or waits: items submitted now would only wait behind it. */
  get holdsSolo(): boolean {
    return this.soloRunning || this.soloWaiting > 0;
  }

  /**
   * How many items submitted now would start before `ahead` more items
   * finish: the free slots plus `ahead`, less what already waits and the
   * `pending` items about to be submitted first. 0 while a solo item runs or
   * waits, since items behind it start only after it.
   */
  startableWithin(ahead: number, pending = 0): number {
    if (this.holdsSolo) return 0;
    return Math.max(0, this.limit + ahead - this.size - pending);
  }

  submit(item: M, solo = false): void {
    this.waiting.push({ item, solo });
    if (solo) this.soloWaiting += 1;
    this.pump();
  }

  /** Removes and returns the items not started yet (shutdown hands them back). */
  takeWaiting(): M[] {
    this.soloWaiting = 0;
    const items = this.waiting.splice(0).map((entry) => entry.item);
    if (items.length > 0) this.notify();
    return items;
  }

  /** Resolves at the next start or end of an item. */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  /** Resolves once nothing runs or waits, or at `deadline` (epoch ms); true when idle. */
  async whenIdle(deadline: number): Promise<boolean> {
    while (this.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.nextChange(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  private pump(): void {
    let finishedNow = false;
    while (this.waiting.length > 0 && !this.soloRunning) {
      const next = this.waiting[0];
      if (next.solo ? this.running > 0 : this.running >= this.limit) break;
      this.waiting.shift();
      if (next.solo) this.soloWaiting -= 1;
      this.running += 1;
      this.soloRunning = next.solo;
      const pending = this.run(next.item);
      if (pending === undefined) {
        // Finished synchronously: its slot is free for the next item at once.
        this.running -= 1;
        if (next.solo) this.soloRunning = false;
        finishedNow = true;
        continue;
      }
      const done = (): void => {
        this.running -= 1;
        if (next.solo) this.soloRunning = false;
        this.pump();
        this.notify();
      };
      pending.then(done, done);
    }
    if (finishedNow) this.notify();
  }

  private notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
