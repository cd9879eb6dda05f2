import { NonRetryableError } from '../core/errors/non-retryable.error.js';
import { errorText } from '../core/error-text.js';

/**
 * The error a `@MessagePattern` handler answered with, as Nest's exception
 * layer hands it over (`{ status: 'error', message }` for an `RpcException`
 * with a string, the object it carries otherwise). A `NonRetryableError`, so
 * the queue processor answers the request with it at once: an RPC error is
 * the handler's answer, not a fault that running again would cure.
 */
export class RpcErrorReply extends NonRetryableError {
  constructor(error: unknown) {
    super(rpcErrorText(error));
  }
}

/**
 * An error value of Nest's exception layer as text (a failure reply's error,
 * a log line): JSON for an object, `{"status":"error","message":…}` for an
 * `Error`, else the value's text.
 */
export function rpcErrorText(error: unknown): string {
  if (error instanceof Error) return JSON.stringify({ status: 'error', message: error.message });
  if (typeof error === 'object' && error !== null) {
    try {
      return JSON.stringify(error);
    } catch {
      return errorText(error);
    }
  }
  return errorText(error);
}

/**
 * The error a client sees for a failure reply's error text: the object the
 * handler's exception layer produced when the text is one (an RPC error),
 * else undefined (the request failed for another reason).
 */
export function decodeRpcError(text: string): object | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
