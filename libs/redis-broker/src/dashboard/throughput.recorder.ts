import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { BrokerEvents, type DeadLetteredEvent, type FailedEvent, type HandledEvent, type SourceKind } from '../core/events.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';

/**
 * Messages settled in one time slice by this process' handlers.
 * @publicApi
 */
export interface ThroughputBucket {
  /** Start of the slice (epoch ms). */
  at: number;
  handled: number;
  failed: number;
  deadLettered: number;
}

/**
 * One failed handler run, as the dashboard lists it.
 * @publicApi
 */
export interface RecentFailure {
  at: number;
  kind: SourceKind;
  source: string;
  handler: string;
  error: string;
}

/**
 * Counts what this process' handlers did, per fixed time slice, in a ring of
 * slices, and keeps the last failures with their error texts. It listens to
 * `BrokerEvents`, so it only sees handlers of the process that mounts the
 * dashboard. Listeners are O(1) and synchronous: they run on the hot path.
 */
@Injectable()
export class ThroughputRecorder implements OnModuleDestroy {
  private readonly bucketMs = BROKER_DEFAULTS.dashboard.throughputBucketMs;
  private readonly size = BROKER_DEFAULTS.dashboard.throughputBuckets;
  private readonly buckets: ThroughputBucket[] = [];
  private readonly failures: RecentFailure[] = [];
  private readonly onHandled = (_e: HandledEvent): void => void this.current().handled++;
  private readonly onFailed = (e: FailedEvent): void => this.fail(e);
  private readonly onDeadLettered = (_e: DeadLetteredEvent): void => void this.current().deadLettered++;

  constructor(private readonly events: BrokerEvents) {
    events.on('handled', this.onHandled);
    events.on('failed', this.onFailed);
    events.on('deadLettered', this.onDeadLettered);
  }

  /** The last slices, oldest first, ending with the current one; slices without messages are zeros. */
  throughput(now = Date.now()): ThroughputBucket[] {
    const last = this.sliceStart(now);
    const byStart = new Map(this.buckets.map((b) => [b.at, b]));
    const out: ThroughputBucket[] = [];
    for (let i = this.size - 1; i >= 0; i--) {
      const at = last - i * this.bucketMs;
      out.push({ ...(byStart.get(at) ?? { at, handled: 0, failed: 0, deadLettered: 0 }) });
    }
    return out;
  }

  /** Width of one slice in ms. */
  get sliceMs(): number {
    return this.bucketMs;
  }

  /** The most recent failures, newest first. */
  recentFailures(): RecentFailure[] {
    return [...this.failures].reverse();
  }

  onModuleDestroy(): void {
    this.events.off('handled', this.onHandled);
    this.events.off('failed', this.onFailed);
    this.events.off('deadLettered', this.onDeadLettered);
  }

  private fail(event: FailedEvent): void {
    this.current().failed++;
    this.failures.push({ at: Date.now(), kind: event.kind, source: event.source, handler: event.handler, error: event.error });
    if (this.failures.length > BROKER_DEFAULTS.dashboard.recentFailures) this.failures.shift();
  }

  private current(): ThroughputBucket {
    const at = this.sliceStart(Date.now());
    let bucket = this.buckets[this.buckets.length - 1];
    if (bucket?.at !== at) {
      bucket = { at, handled: 0, failed: 0, deadLettered: 0 };
      this.buckets.push(bucket);
      if (this.buckets.length > this.size) this.buckets.shift();
    }
    return bucket;
  }

  private sliceStart(time: number): number {
    return time - (time % this.bucketMs);
  }
}
