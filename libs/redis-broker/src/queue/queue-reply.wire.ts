import { errorText } from '../core/error-text.js';
import { messages } from '../core/messages.js';

/**
 * The request header naming the reply list (the whole key) a worker pushes
 * the reply to; the reply carries the request's message id. A message
 * without it is an ordinary message: no reply is sent.
 */
export const REPLY_TO_HEADER = 'nrb-reply-to';

/** A reply read from a reply list: the handler's return value, or why the request failed. */
export type QueueReply =
  | { id: string; ok: true; value: unknown }
  | { id: string; ok: false; reason: string; error: string };

/**
 * The reply to request `id` of a handler that returned `value`:
 * `{"id":"…","ok":true,"v":<value as JSON>}` (`undefined` is sent as `null`).
 * A value JSON cannot encode (a cycle, a BigInt) makes a failure reply
 * instead: running the handler again would not change it.
 */
export function encodeSuccessReply(id: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    return encodeFailureReply(id, 'unencodable-reply', messages.replyNotEncodable(errorText(error)));
  }
  return `{"id":${JSON.stringify(id)},"ok":true,"v":${json ?? 'null'}}`;
}

/** The reply to request `id` whose message was dead-lettered for `reason` with the handler's `error`. */
export function encodeFailureReply(id: string, reason: string, error: string): string {
  return JSON.stringify({ id, ok: false, reason, error });
}

/**
 * Reads one reply list element; undefined for anything that is not a reply
 * (not JSON, no string id, `ok` not a boolean, a failure without string
 * `reason` and `error`, a success without `v`).
 */
export function readReply(text: string): QueueReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const { id, ok } = record;
  if (typeof id !== 'string' || id.length === 0) return undefined;
  if (ok === true) return 'v' in record ? { id, ok, value: record.v } : undefined;
  if (ok !== false) return undefined;
  const { reason, error } = record;
  if (typeof reason !== 'string' || typeof error !== 'string') return undefined;
  return { id, ok, reason, error };
}
