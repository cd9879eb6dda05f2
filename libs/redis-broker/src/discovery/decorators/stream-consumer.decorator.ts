import { SetMetadata } from '@nestjs/common';
import { STREAM_CONSUMER_METADATA } from '../../core/constants.js';
import type { StreamConsumerOptions } from '../../core/options/handler.options.js';

/**
 * What `@StreamConsumer` takes: the stream, the group, an optional consumer
 * name, and the {@link StreamConsumerOptions} (each falling back to the
 * module's `streamDefaults`).
 * @publicApi
 */
export interface StreamConsumerDefinition extends StreamConsumerOptions {
  /** The stream to read (with the module's `keyPrefix`), e.g. `user-events`. */
  stream: string;
  /** The consumer group. Every group sees every entry; consumers of one group share them. */
  group: string;
  /**
   * This process's consumer name in the group. Default: the module's
   * `instanceId` (`hostname:pid:random`), unique per process. A fixed name
   * lets a restarted process resume its own pending entries at once; two
   * live processes must never share one.
   */
  consumer?: string;
}

/** What `@StreamConsumer` records on a method. */
export interface StreamConsumerMetadata {
  stream: string;
  group: string;
  consumer: string | undefined;
  options: StreamConsumerOptions;
}

/**
 * Consumes the Redis stream `stream` as a member of consumer group `group`
 * (created at boot with `XGROUP CREATE ... MKSTREAM` from `startId` when
 * missing). The method receives the entry's fields (a flat object of
 * strings, or JSON-decoded with `parse: 'json-fields'`) and a
 * {@link StreamMessageContext}, or what `@Payload()` / `@Ctx()` select.
 * Return (or resolve) to acknowledge (`XACK`); throw to have the entry
 * redelivered with backoff, up to `maxDeliveries`, after which it is copied
 * to the group's dead-letter stream and acknowledged.
 *
 * With `batch: { size }`, the method receives an array of up to `size`
 * entries' fields and a {@link StreamBatchContext}; it may return a
 * {@link BatchResult} to fail only some of them (docs/batches.md).
 *
 * At-least-once: an entry is acknowledged only after its handler succeeded;
 * entries of a crashed consumer are taken over by another after `claimIdleMs`.
 *
 * @example
 * ```ts
 * @StreamConsumer({ stream: 'user-events', group: 'analytics', concurrency: 4 })
 * async track(@Payload('eventType') type: string, @Ctx() ctx: StreamMessageContext) { ... }
 * ```
 * @publicApi
 */
export function StreamConsumer(definition: StreamConsumerDefinition): MethodDecorator {
  const { stream, group, consumer, ...options } = definition;
  return SetMetadata<string, StreamConsumerMetadata>(STREAM_CONSUMER_METADATA, { stream, group, consumer, options });
}
