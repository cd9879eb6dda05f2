import { isAscii, isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { NO_HEADERS, type Envelope } from '../core/envelope.js';

/** One message taken from a list queue, as the broker tracks it. */
export class QueueDelivery {
  private digest: string | undefined;
  /** The exact bytes, until they are known to be valid UTF-8 (then `text` stands for them). */
  private bytes: Buffer | undefined;
  /**
   * The message decoded, once known to be valid UTF-8 (so it encodes back to
   * the same bytes): acks, retries and dead letters then send the text, and
   * no buffer view keeps the fetched batch's reply alive.
   */
  private decoded: string | undefined;
  /** Its slot in the fetcher's held list, -1 when not held (see `HeldDeliveries`). */
  heldAt = -1;
  /** Its place in the processing-list model, -1 when it has none (see `ProcessingListModel`). */
  slot = -1;
  /** Marks the batch being planned by `ProcessingListModel.planAck`. */
  acking = false;
  /** An ack, retry or dead letter that removes its copy has been sent (a recovery must not count it as held). */
  leaving = false;
  /** Its length in bytes. */
  readonly size: number;
  /** The id its envelope carries, once read; undefined for a plain message (see `id`). */
  envelopeId: string | undefined;
  /** The reply list of a request message (its `nrb-reply-to` header, accepted), once read. */
  replyTo: string | undefined;

  constructor(
    /** The message: its exact bytes, or its text when the fetch found it ASCII (valid UTF-8, one byte a character). */
    body: Buffer | string,
    /** Failed attempts before this delivery. */
    readonly attempts: number,
    /** Times a consumer died while running it. */
    readonly deaths: number,
    /** Counted as running by the fetch script (it starts as soon as it arrives); otherwise it was recorded as waiting. */
    readonly marked: boolean,
    /** When this process received it (epoch ms): the fetch reply's arrival, one clock read per batch. */
    readonly receivedAt: number,
  ) {
    if (typeof body === 'string') {
      this.decoded = body;
      this.size = body.length;
    } else {
      this.bytes = body;
      this.size = body.length;
    }
  }

  /** The text, once known valid; undefined before `decode` and for bytes that are not UTF-8. */
  get text(): string | undefined {
    return this.decoded;
  }

  /**
   * The message as text, or undefined when its bytes are not valid UTF-8 (the
   * bytes are then kept as they are, for the dead-letter list).
   */
  decode(): string | undefined {
    if (this.decoded !== undefined) return this.decoded;
    const bytes = this.bytes!;
    const text = bytes.toString('utf8');
    // Invalid bytes decode to U+FFFD: only then is the exact check needed.
    if (text.includes('\uFFFD') && !isUtf8(bytes)) return undefined;
    this.decoded = text;
    this.bytes = undefined;
    return text;
  }

  /** The message as a Redis argument: the text when known valid (same bytes), else the bytes. */
  get body(): Buffer | string {
    return this.decoded ?? this.bytes!;
  }

  /**
   * sha1 hex of the message bytes: the key of its retry state. Computed on
   * first use: most deliveries never need it. An envelope's id makes it unique
   * per message.
   */
  get sha(): string {
    return (this.digest ??= sha1(this.body));
  }

  /** The message's id: its envelope's, else (a plain message) its sha1. */
  get id(): string {
    return this.envelopeId ?? this.sha;
  }
}

/** Above this size a fetched batch is copied apart, so one long-running message does not keep the whole batch in memory. */
const SHARE_BATCH_BYTES = 256 * 1024;

/**
 * Turns an `nrbFetch` reply (`marked`, `state`, `lengths`, `messages`) into
 * deliveries: the first `started` count as running (`marked`), the others
 * were recorded as waiting by the script; `state`
 * is empty, or `attempts:deaths` per message joined by commas; `messages` is
 * every message concatenated, cut by `lengths`. A batch that is all ASCII
 * (the common case for JSON) is decoded once and cut into strings; any other
 * is cut into byte views, decoded one by one when they run. Pieces of a small
 * batch share its reply; those of a large one are copies.
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
  const receivedAt = Date.now();
  const share = blob.length <= SHARE_BATCH_BYTES;
  const ascii = isAscii(blob);
  const all = ascii && share ? blob.toString('latin1') : undefined;
  let at = 0;
  for (let i = 0; i < sizes.length; i += 1) {
    const end = at + Number(sizes[i]);
    let body: Buffer | string;
    if (all !== undefined) body = all.slice(at, end);
    else if (ascii) body = blob.toString('latin1', at, end);
    else body = share ? blob.subarray(at, end) : Buffer.from(blob.subarray(at, end));
    at = end;
    let attempts = 0;
    let deaths = 0;
    if (pairs) {
      const pair = pairs[i];
      const colon = pair.indexOf(':');
      attempts = Number(pair.slice(0, colon));
      deaths = Number(pair.slice(colon + 1));
    }
    out[i] = new QueueDelivery(body, attempts, deaths, i < marked, receivedAt);
  }
  return out;
}

/**
 * The arguments of `nrbAck` after its keys: flags (retry state to clear),
 * byte lengths, the messages concatenated. They go as text when every one
 * has been decoded (valid UTF-8 encodes back to its bytes), else as bytes.
 */
export function ackArguments(deliveries: readonly QueueDelivery[], clearState: (d: QueueDelivery) => boolean): [string, string, Buffer | string] {
  let flags = '';
  let lengths = '';
  let text = '';
  let decoded = true;
  for (let i = 0; i < deliveries.length; i += 1) {
    const d = deliveries[i];
    flags += clearState(d) ? '1' : '0';
    lengths += i === 0 ? String(d.size) : `,${d.size}`;
    const piece = d.text;
    if (decoded && piece !== undefined) text += piece;
    else decoded = false;
  }
  return [flags, lengths, decoded ? text : Buffer.concat(deliveries.map((d) => asBytes(d.body)))];
}

/** A message as bytes (text encodes back to the bytes it was decoded from). */
export function asBytes(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
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
    private readonly delivery: { readonly id: string },
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
    /**
     * Aborted when the handler's `timeoutMs` passes (reason: a `TimeoutError`
     * DOMException) or shutdown's deadline comes (an `AbortError`). Pass it to
     * `fetch` and the like, or check `signal.aborted`: a run cannot be stopped
     * from outside.
     */
    readonly signal: AbortSignal,
    private readonly envelope?: Envelope,
  ) {}

  /**
   * The message's id: the one `BrokerClient.enqueue` returned, unique per
   * message. A plain JSON message (pushed by another client) has none: its id
   * is then the sha1 of its text, shared by equal payloads.
   */
  get id(): string {
    return this.delivery.id;
  }

  /** When it was enqueued (epoch ms, the producer's clock); undefined for a plain JSON message. */
  get enqueuedAt(): number | undefined {
    return this.envelope?.enqueuedAt;
  }

  /** The headers given to `enqueue`; `{}` when none (and for a plain JSON message). */
  get headers(): Readonly<Record<string, string>> {
    return this.envelope?.headers ?? NO_HEADERS;
  }

  /** The fields a handler reads, for logging it (`JSON.stringify(context)`). */
  toJSON(): Record<string, unknown> {
    const { id, queue, attempt, raw, consumer, receivedAt, enqueuedAt, headers } = this;
    return { id, queue, attempt, raw, consumer, receivedAt, enqueuedAt, headers };
  }
}
