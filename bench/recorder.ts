import { now, type ConsumerProgress, type ConsumerResult } from './protocol.js';

/**
 * Counts what a consumer handled, in the handler itself, the same way for
 * every system: the time of the first and last handled message and, in the
 * paced scenario, each message's enqueue-to-handler latency.
 */
export class Recorder {
  handled = 0;
  firstAt = 0;
  lastAt = 0;
  private latencies: Float64Array;
  private cpuAtFirst: NodeJS.CpuUsage | undefined;
  /** Handlers between `begin` and `record` now, and the integral of that count over time (ms). */
  private running = 0;
  private runningArea = 0;
  private runningSince = 0;
  private firstBegin = 0;

  constructor(private readonly keepLatency: boolean, expected: number) {
    this.latencies = new Float64Array(keepLatency ? Math.max(1, expected) : 0);
  }

  /**
   * A handler that awaits starts (the I/O-bound scenario; `record` ends it):
   * the mean number running from the first start to the last end is how
   * full a system keeps its concurrency.
   */
  begin(): void {
    const at = now();
    if (this.firstBegin === 0) {
      this.firstBegin = at;
      this.runningSince = at;
    }
    this.runningArea += this.running * (at - this.runningSince);
    this.runningSince = at;
    this.running += 1;
  }

  /** One message reached its handler; `sentAt` is when the producer made it. */
  record(sentAt: number): void {
    const at = now();
    if (this.running > 0) {
      this.runningArea += this.running * (at - this.runningSince);
      this.runningSince = at;
      this.running -= 1;
    }
    if (this.handled === 0) {
      this.firstAt = at;
      this.cpuAtFirst = process.cpuUsage();
    }
    this.lastAt = at;
    if (this.keepLatency) {
      if (this.handled >= this.latencies.length) {
        const grown = new Float64Array(this.latencies.length * 2);
        grown.set(this.latencies);
        this.latencies = grown;
      }
      this.latencies[this.handled] = at - sentAt;
    }
    this.handled += 1;
  }

  /** Forgets everything recorded so far (the warm-up): the measured run starts at the next message. */
  reset(): void {
    this.handled = 0;
    this.firstAt = 0;
    this.lastAt = 0;
    this.cpuAtFirst = undefined;
    this.running = 0;
    this.runningArea = 0;
    this.firstBegin = 0;
  }

  progress(): ConsumerProgress {
    return { handled: this.handled, firstAt: this.firstAt, lastAt: this.lastAt };
  }

  result(): ConsumerResult {
    const cpu = this.cpuAtFirst ? process.cpuUsage(this.cpuAtFirst) : { user: 0, system: 0 };
    const out: ConsumerResult = { ...this.progress(), maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuUs: cpu.user + cpu.system };
    if (this.firstBegin > 0 && this.lastAt > this.firstBegin) out.meanRunning = this.runningArea / (this.lastAt - this.firstBegin);
    if (this.keepLatency && this.handled > 0) {
      const sorted = this.latencies.slice(0, this.handled).sort();
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      out.latency = { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1], samples: sorted.length };
    }
    return out;
  }
}
