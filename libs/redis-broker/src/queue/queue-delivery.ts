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
  /** Already marked active by the fetch script (it starts as soon as it arrives). */
  marked: boolean;
}

/** Turns a flat `nrbFetch` reply (message, attempts, deaths, marked, ...) into deliveries. */
export function toDeliveries(reply: (Buffer | number)[]): QueueDelivery[] {
  const out: QueueDelivery[] = [];
  for (let i = 0; i + 3 < reply.length; i += 4) {
    const body = reply[i] as Buffer;
    out.push({ body, sha: sha1(body), attempts: Number(reply[i + 1]), deaths: Number(reply[i + 2]), marked: Number(reply[i + 3]) === 1 });
  }
  return out;
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
