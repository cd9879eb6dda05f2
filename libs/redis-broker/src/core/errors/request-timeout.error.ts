import { messages } from '../messages.js';

/**
 * Rejects a `BrokerClient.request` whose reply did not come within its
 * `timeoutMs`. The request message is not withdrawn: it may still run (or be
 * running), and its reply, if one comes, is dropped.
 * @publicApi
 */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';

  constructor(
    /** The queue the request went to. */
    readonly queue: string,
    /** The request's id (its message's id, the handler's `ctx.id`). */
    readonly requestId: string,
    /** How long the requester waited, in ms. */
    readonly timeoutMs: number,
  ) {
    super(messages.requestTimedOut(queue, requestId, timeoutMs));
  }
}
