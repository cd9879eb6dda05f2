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
}

/** A stream entry as ioredis returns it: `[id, [field, value, ...]]`. */
export type RawStreamEntry = [string, string[]];

/** The flat field list as an object; a repeated field keeps its last value. */
export function fieldsToObject(fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
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
    /** The entry's fields exactly as stored (strings), whatever `parse` says. */
    readonly fields: Readonly<Record<string, string>>,
    /** True when the entry was requeued from the dead-letter stream. */
    readonly requeued: boolean,
    /** When this process received it (epoch ms). */
    readonly receivedAt: number,
  ) {}
}
