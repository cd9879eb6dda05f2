type Task = () => Promise<void>;

interface Entry {
  task: Task;
  solo: boolean;
}

/**
 * Runs at most `limit` tasks at once, in submission order. A `solo` task waits
 * until nothing else runs and blocks the tasks behind it while it runs: a
 * message suspected of crashing its process runs alone, so a crash blames it
 * and not its neighbours. Tasks must not reject.
 */
export class ConcurrencyLimiter {
  private running = 0;
  private soloRunning = false;
  private readonly waiting: Entry[] = [];
  private listeners: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Tasks running plus tasks waiting. */
  get size(): number {
    return this.running + this.waiting.length;
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  submit(task: Task, solo = false): void {
    this.waiting.push({ task, solo });
    this.pump();
  }

  /** Resolves once `size` is below `n`. */
  async whenBelow(n: number): Promise<void> {
    while (this.size >= n) await this.nextChange();
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

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.soloRunning) {
      const next = this.waiting[0];
      if (next.solo ? this.running > 0 : this.running >= this.limit) return;
      this.waiting.shift();
      this.running += 1;
      this.soloRunning = next.solo;
      const done = (): void => {
        this.running -= 1;
        if (next.solo) this.soloRunning = false;
        this.pump();
        const listeners = this.listeners;
        this.listeners = [];
        for (const listener of listeners) listener();
      };
      next.task().then(done, done);
    }
  }
}
