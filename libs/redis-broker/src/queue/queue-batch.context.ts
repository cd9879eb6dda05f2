import type { QueueMessageContext } from './queue-delivery.js';

/**
 * What a batch queue handler (`batch` option) knows about its batch, via
 * `@Ctx()` or the second argument: one {@link QueueMessageContext} per
 * payload, in the same order.
 * @publicApi
 */
export class QueueBatchContext {
  constructor(
    /** The queue name, without the key prefix. */
    readonly queue: string,
    /** The consumer id running it (`instanceId`). */
    readonly consumer: string,
    /** Each message's context (id, attempt, headers, ...): `messages[i]` is the context of `payloads[i]`. */
    readonly messages: readonly QueueMessageContext[],
    /**
     * Aborted when the batch's `timeoutMs` passes (a `TimeoutError`) or
     * shutdown's deadline comes (an `AbortError`); every message's
     * `signal` is this one.
     */
    readonly signal: AbortSignal,
  ) {}

  /** Messages in the batch. */
  get size(): number {
    return this.messages.length;
  }

  /** The fields a handler reads, for logging it (`JSON.stringify(context)`). */
  toJSON(): Record<string, unknown> {
    return { queue: this.queue, consumer: this.consumer, size: this.size, messages: this.messages };
  }
}
