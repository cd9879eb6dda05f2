import { messages } from '../messages.js';

/**
 * Rejects a `BrokerClient.request` whose message was dead-lettered (the
 * handler threw a `NonRetryableError`, failed `maxAttempts` times, timed out
 * on its last attempt, or refused the payload as invalid), or whose handler
 * returned a value that JSON cannot encode. Its `message` is the handler's
 * error message, prefixed by the request and the reason.
 * @publicApi
 */
export class RequestFailedError extends Error {
  override readonly name = 'RequestFailedError';

  constructor(
    /** The queue the request went to. */
    readonly queue: string,
    /** The request's id (its message's id, the handler's `ctx.id`). */
    readonly requestId: string,
    /**
     * Why: a dead-letter reason (`non-retryable`, `max-attempts`, `timeout`,
     * `validation`), or `unencodable-reply`.
     */
    readonly reason: string,
    /** The handler's error message, as the worker saw it. */
    readonly handlerError: string,
  ) {
    super(messages.requestFailed(queue, requestId, reason, handlerError));
  }
}
