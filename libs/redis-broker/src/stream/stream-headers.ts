import { STREAM_HEADER_PREFIX } from '../core/envelope.js';

/** An entry's fields cut in two: the handler's payload and its headers. */
export interface SplitFields {
  payload: Record<string, string>;
  headers: Record<string, string>;
}

/**
 * Splits the fields named `__nrb.h.<name>` off as headers (`<name>` →
 * value); undefined when the entry has none, which costs one scan of its
 * field names and no copy.
 */
export function splitHeaderFields(fields: Record<string, string>): SplitFields | undefined {
  let split: SplitFields | undefined;
  for (const name in fields) {
    if (!name.startsWith(STREAM_HEADER_PREFIX)) continue;
    split ??= { payload: { ...fields }, headers: {} };
    split.headers[name.slice(STREAM_HEADER_PREFIX.length)] = fields[name];
    delete split.payload[name];
  }
  return split;
}
