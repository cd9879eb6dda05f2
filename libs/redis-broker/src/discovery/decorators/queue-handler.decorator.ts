import { SetMetadata } from '@nestjs/common';
import { QUEUE_HANDLER_METADATA } from '../../core/constants.js';
import type { QueueHandlerOptions } from '../../core/options/handler.options.js';

/** What `@QueueHandler` records on a method. */
export interface QueueHandlerMetadata {
  queue: string;
  options: QueueHandlerOptions;
}

/**
 * Consumes the Redis list `queue` (with the module's `keyPrefix`): each
 * message goes to exactly one handler run across all processes. The method
 * receives the payload (JSON-parsed unless `parse: 'raw'`) and a
 * {@link QueueMessageContext}, or what `@Payload()` / `@Ctx()` select. Return
 * (or resolve) to acknowledge; throw to retry with backoff, up to
 * `maxAttempts`, then the message is dead-lettered with the error.
 *
 * With `batch: { size }`, the method receives an array of up to `size`
 * payloads and a {@link QueueBatchContext}; it may return a
 * {@link BatchResult} to fail only some of them (docs/batches.md).
 *
 * Defaults: reliable mode (at-least-once, survives crashes), concurrency 1,
 * 3 attempts with exponential backoff from 1 s.
 *
 * @example
 * ```ts
 * @QueueHandler('emails', { concurrency: 10 })
 * async send(@Payload() email: EmailDto, @Ctx() ctx: QueueMessageContext) { ... }
 * ```
 * @publicApi
 */
export function QueueHandler(queue: string, options: QueueHandlerOptions = {}): MethodDecorator {
  return SetMetadata<string, QueueHandlerMetadata>(QUEUE_HANDLER_METADATA, { queue, options });
}
