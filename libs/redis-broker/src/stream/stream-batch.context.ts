import type { StreamMessageContext } from './stream-entry.js';

/**
 * What a batch stream consumer (`batch` option) knows about its batch, via
 * `@Ctx()` or the second argument: one {@link StreamMessageContext} per
 * payload, in the same order.
 * @publicApi
 */
export class StreamBatchContext {
  constructor(
    /** The stream name, without the key prefix. */
    readonly stream: string,
    /** The consumer group. */
    readonly group: string,
    /** This process's consumer name in the group. */
    readonly consumer: string,
    /** Each entry's context (id, delivery count, headers, ...): `entries[i]` is the context of `payloads[i]`. */
    readonly entries: readonly StreamMessageContext[],
    /**
     * Aborted when the batch's `timeoutMs` passes (a `TimeoutError`) or
     * shutdown's deadline comes (an `AbortError`); every entry's `signal`
     * is this one.
     */
    readonly signal: AbortSignal,
  ) {}

  /** Entries in the batch. */
  get size(): number {
    return this.entries.length;
  }

  /** The fields a handler reads, for logging it (`JSON.stringify(context)`). */
  toJSON(): Record<string, unknown> {
    return { stream: this.stream, group: this.group, consumer: this.consumer, size: this.size, entries: this.entries };
  }
}
