import { Command } from 'ioredis';
import { ENVELOPE_CLOSE, ENVELOPE_OPEN } from '../envelope.js';
import type { RedisClient } from './redis-client.js';

const CR = 13;
const LF = 10;
const DOLLAR = 36;
const OPEN = Buffer.from(ENVELOPE_OPEN, 'latin1');
const CLOSE = ENVELOPE_CLOSE.charCodeAt(0);

/**
 * A batch of envelopes (`core/envelope.ts`) that share their enqueue time and
 * headers: message `i` is `ENVELOPE_OPEN + ids[i] + middle + payloads[i] +
 * ENVELOPE_CLOSE`.
 */
export interface EnvelopeBatch {
  /** ASCII ids needing no JSON escaping (`newMessageId`'s). */
  readonly ids: readonly string[];
  /** `envelopeMiddle(enqueuedAt, headers)`. */
  readonly middle: string;
  /** Each payload's JSON. */
  readonly payloads: readonly string[];
}

/**
 * `LPUSH key envelope…` for a batch, written as one Buffer that this class
 * fills itself: each envelope is assembled in place from its parts.
 *
 * ioredis joins a command of strings into one string (a chain of several
 * thousand concatenations that Node flattens and encodes at the write), and
 * one over V8's regular object size (128 KB) is allocated in the old
 * generation, each costing a share of a full collection. Encoding envelope
 * strings into a Buffer instead still flattens each one (a concatenation) into
 * a copy before it is written. Here only the payload's JSON is encoded, and
 * the parts every envelope of the batch shares are copied as bytes
 * (docs/performance.md has the numbers).
 *
 * ioredis sees the key as the command's only argument: it routes by it in a
 * Cluster and applies a client `keyPrefix` to it (the module refuses one, but
 * the bytes stay what `lpush` would write). A resend after a reconnect writes
 * the same bytes again.
 */
export class PushEnvelopesCommand extends Command {
  private written: Buffer | undefined;

  constructor(key: string, private readonly batch: EnvelopeBatch, keyPrefix: string | undefined) {
    super('lpush', [key], { keyPrefix });
  }

  override toWritable(): Buffer {
    this.written ??= this.encode();
    return this.written;
  }

  private encode(): Buffer {
    const { ids, payloads } = this.batch;
    const middle = Buffer.from(this.batch.middle, 'utf8');
    const count = ids.length;
    const key = this.args[0] as string | Buffer;
    const keyBytes = typeof key === 'string' ? Buffer.byteLength(key) : key.length;
    const lengths = new Array<number>(count);
    // "*<n>\r\n$5\r\nlpush\r\n$<k>\r\n<key>\r\n", then "$<len>\r\n<envelope>\r\n" per message.
    const { name } = this;
    let size = 1 + digits(count + 2) + 2 + bulkSize(name.length) + bulkSize(keyBytes);
    const frame = OPEN.length + middle.length + 1;
    for (let i = 0; i < count; i += 1) {
      const length = Buffer.byteLength(payloads[i]);
      lengths[i] = length;
      size += bulkSize(frame + ids[i].length + length);
    }
    const out = Buffer.allocUnsafe(size);
    out[0] = 42; // *
    let at = writeDecimal(out, 1, count + 2);
    out[at++] = CR;
    out[at++] = LF;
    at = writeBulkHeader(out, at, name.length);
    at += out.write(name, at, 'latin1');
    out[at++] = CR;
    out[at++] = LF;
    at = writeBulkHeader(out, at, keyBytes);
    at += typeof key === 'string' ? out.write(key, at, 'utf8') : key.copy(out, at);
    out[at++] = CR;
    out[at++] = LF;
    for (let i = 0; i < count; i += 1) {
      const id = ids[i];
      at = writeBulkHeader(out, at, frame + id.length + lengths[i]);
      out.set(OPEN, at);
      at += OPEN.length;
      for (let c = 0; c < id.length; c += 1) out[at++] = id.charCodeAt(c);
      out.set(middle, at);
      at += middle.length;
      at += out.write(payloads[i], at, lengths[i], 'utf8');
      out[at++] = CLOSE;
      out[at++] = CR;
      out[at++] = LF;
    }
    return out;
  }
}

/**
 * `LPUSH key ...envelopes` on `client`, resolving to the list's new length.
 * The same on the wire as `client.lpush(key, ...envelopes)` with each
 * envelope from `encodeEnvelope`.
 */
export function pushEnvelopes(client: RedisClient, key: string, batch: EnvelopeBatch): Promise<number> {
  const command = new PushEnvelopesCommand(key, batch, client.options.keyPrefix);
  return client.sendCommand(command) as Promise<number>;
}

/** "$<length>\r\n" at `at`; returns the offset after it. */
function writeBulkHeader(out: Buffer, at: number, length: number): number {
  out[at] = DOLLAR;
  const end = writeDecimal(out, at + 1, length);
  out[end] = CR;
  out[end + 1] = LF;
  return end + 2;
}

/** Writes `n` (≥ 0) in decimal at `at`, returns the offset after it. */
function writeDecimal(out: Buffer, at: number, n: number): number {
  const end = at + digits(n);
  let rest = n;
  for (let i = end - 1; i >= at; i -= 1) {
    out[i] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return end;
}

/** Bytes of "$<length>\r\n<bytes>\r\n". */
function bulkSize(length: number): number {
  return 1 + digits(length) + 2 + length + 2;
}

function digits(n: number): number {
  let count = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) count += 1;
  return count;
}
