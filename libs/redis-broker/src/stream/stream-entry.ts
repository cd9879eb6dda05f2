import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { messages } from '../core/messages.js';
import { entryIdTime, NO_HEADERS } from '../core/envelope.js';

/** One stream entry taken by a group consumer, as the broker tracks it. */
export interface StreamEntry {
  /** The Redis key it was read from: the stream, or the group's requeue stream. */
  key: string;
  id: string;
  /** The field map exactly as stored: `[field, value, field, value, ...]`. */
  fields: string[];
  /** Deliveries to this group so far, this one included, as Redis counts them. */
  deliveries: number;
  /** Whether it came from the group's requeue stream (a dead entry put back). */
  requeued: boolean;
  /** Whether it was taken over from a consumer presumed dead (it may be what killed that consumer). */
  takenOver?: boolean;
  /**
   * The fetch it came with while its reader holds it, undefined once
   * released (set by `StreamGroupReader`; created undefined, so every entry
   * has one shape).
   */
  heldIn: HeldFetch | undefined;
}

/**
 * The entries one fetch returned, and how many of them are still held.
 * Released entries may stay in `entries` (a lookup skips them) until half
 * of them are released.
 */
export interface HeldFetch {
  entries: StreamEntry[];
  left: number;
}

/** A stream entry as ioredis returns it: `[id, [field, value, ...]]`. */
export type RawStreamEntry = [string, string[]];

/** The flat field list as an object; a repeated field keeps its last value. */
export function fieldsToObject(fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
}

const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Throws `InvalidBrokerOptionsError` unless `id` is a complete entry id,
 * `<ms>-<seq>` with both parts below 2^64. A bare `<ms>` is refused: Redis
 * reads it as a range of every sequence number of that millisecond, so an
 * operation meant for one entry could match several, or another one.
 */
export function assertEntryId(what: string, id: unknown): asserts id is string {
  const match = typeof id === 'string' ? ENTRY_ID.exec(id) : null;
  if (!match || BigInt(match[1]) > UINT64_MAX || BigInt(match[2]) > UINT64_MAX) {
    throw new InvalidBrokerOptionsError(messages.invalidEntryId(what, id));
  }
}

/**
 * The entry's size in bytes (UTF-8 of every field name and value) when it is
 * larger than `max`, else 0; entries whose text is short enough to be under
 * `max` whatever its characters (at most 3 bytes per UTF-16 unit) are not measured.
 */
export function oversizeBytes(fields: readonly string[], max: number): number {
  let units = 0;
  for (const field of fields) units += field.length;
  if (units * 3 <= max) return 0;
  let bytes = 0;
  for (const field of fields) bytes += Buffer.byteLength(field);
  return bytes > max ? bytes : 0;
}

/** The identity of an entry within one consumer: key and id. */
export function entryKey(key: string, id: string): string {
  return `${key} ${id}`;
}

/**
 * What a stream handler knows about the entry it runs, via `@Ctx()` or the
 * second argument.
 * @publicApi
 */
export class StreamMessageContext {
  constructor(
    /** The entry id (`<ms>-<seq>`); for a requeued entry, its id in the group's requeue stream. */
    readonly id: string,
    /** The stream name, without the key prefix. */
    readonly stream: string,
    /** The consumer group. */
    readonly group: string,
    /** This process's consumer name in the group. */
    readonly consumer: string,
    /** 1 on the first delivery, 2 on the first redelivery, ...; kept by Redis, so it survives restarts. */
    readonly deliveryCount: number,
    /** The entry's fields exactly as stored (strings, header fields included), whatever `parse` says. */
    readonly fields: Readonly<Record<string, string>>,
    /** True when the entry was requeued from the dead-letter stream. */
    readonly requeued: boolean,
    /** When this process received it (epoch ms). */
    readonly receivedAt: number,
    /**
     * Aborted when the handler's `timeoutMs` passes (reason: a `TimeoutError`
     * DOMException) or shutdown's deadline comes (an `AbortError`). Pass it to
     * `fetch` and the like, or check `signal.aborted`: a run cannot be stopped
     * from outside.
     */
    readonly signal: AbortSignal,
    /** The headers given to `append` (fields `__nrb.h.<name>`, left out of the payload); `{}` when none. */
    readonly headers: Readonly<Record<string, string>> = NO_HEADERS,
  ) {}

  /** When it was appended (epoch ms, Redis's clock): the time part of its id. */
  get enqueuedAt(): number {
    return entryIdTime(this.id);
  }
}
