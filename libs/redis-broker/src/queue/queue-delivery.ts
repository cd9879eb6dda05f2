import { hash } from 'node:crypto';

/** One message taken from a list queue, as the broker tracks it. */
export interface QueueDelivery {
  /** The bytes exactly as stored (acks remove this exact value). */
  body: Buffer;
  /** sha1 hex of `body`: the key of its retry state. */
  sha: string;
  /** Failed attempts before this delivery. */
  attempts: number;
  /** Times a consumer died while running it. */
  deaths: number;
  /** Counted as running by the fetch script (it starts as soon as it arrives); otherwise it was recorded as waiting. */
  marked: boolean;
}

/**
 * Turns an `nrbFetch` reply (`marked`, `state`, `lengths`, `messages`) into
 * deliveries: the first `started` count as running (`marked`), the others
 * were recorded as waiting by the script; `state`
 * is empty, or `attempts:deaths` per message joined by commas; `messages` is
 * every message concatenated, cut by `lengths`. Each body is a copy, so a
 * long-running message does not keep its whole batch in memory.
 */
export function toDeliveries(reply: (Buffer | number)[]): QueueDelivery[] {
  const lengths = String(reply[2]);
  if (lengths.length === 0) return [];
  const sizes = lengths.split(',');
  const blob = reply[3] as Buffer;
  const marked = Number(reply[0]);
  const state = reply[1] as Buffer | string;
  const pairs = state.length > 0 ? state.toString().split(',') : undefined;
  const out = new Array<QueueDelivery>(sizes.length);
  let at = 0;
  for (let i = 0; i < sizes.length; i += 1) {
    const end = at + Number(sizes[i]);
    const body = Buffer.from(blob.subarray(at, end));
    at = end;
    let attempts = 0;
    let deaths = 0;
    if (pairs) {
      const pair = pairs[i];
      const colon = pair.indexOf(':');
      attempts = Number(pair.slice(0, colon));
      deaths = Number(pair.slice(colon + 1));
    }
    out[i] = { body, sha: sha1(body), attempts, deaths, marked: i < marked };
  }
  return out;
}

/** The arguments of `nrbAck` after its keys: flags (retry state to clear), lengths, the bodies concatenated. */
export function ackArguments(deliveries: readonly QueueDelivery[], clearState: (d: QueueDelivery) => boolean): [string, string, Buffer] {
  const bodies = new Array<Buffer>(deliveries.length);
  let flags = '';
  let lengths = '';
  for (let i = 0; i < deliveries.length; i += 1) {
    const d = deliveries[i];
    bodies[i] = d.body;
    flags += clearState(d) ? '1' : '0';
    lengths += i === 0 ? String(d.body.length) : `,${d.body.length}`;
  }
  return [flags, lengths, Buffer.concat(bodies)];
}

export function sha1(body: Buffer | string): string {
  // One-shot `hash` (Node ≥ 20.12): about 3× cheaper than a Hash object for a short message.
  return hash('sha1', body, 'hex');
}

/**
 * What a queue handler knows about the message it runs, via `@Ctx()` or the
 * second argument.
 * @publicApi
 */
export class QueueMessageContext {
  constructor(
    /** sha1 of the message text: equal payloads share it (put your own id in the payload when you need one per message). */
    readonly id: string,
    /** The queue name, without the key prefix. */
    readonly queue: string,
    /** 1 on the first delivery, 2 on the first retry, and so on. */
    readonly attempt: number,
    /** The message text exactly as stored. */
    readonly raw: string,
    /** The consumer id running it (`instanceId`). */
    readonly consumer: string,
    /** When this process received it (epoch ms). */
    readonly receivedAt: number,
  ) {}
}
