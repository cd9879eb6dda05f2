import { randomBytes } from 'node:crypto';
import { InvalidBrokerOptionsError } from './errors/invalid-broker-options.error.js';
import { messages } from './messages.js';

/**
 * The queue wire's envelope (see docs/wire-format.md): one JSON object
 * `{"__nrb":1,"id":"…","t":<epoch ms>,"h":{…},"p":<payload>}` around the
 * payload, `h` left out when there are no headers. Any other JSON text on a
 * list is a plain payload, consumed as it always was.
 */
export const ENVELOPE_MARKER = '__nrb';
/** The envelope version this library writes and reads. */
export const ENVELOPE_VERSION = 1;
/** Stream fields whose name starts with this carry headers (`__nrb.h.tenant` → header `tenant`). */
export const STREAM_HEADER_PREFIX = '__nrb.h.';

/** A message's identity and metadata, as read from an envelope. */
export interface Envelope {
  id: string;
  /** When it was enqueued (epoch ms, the producer's clock). */
  enqueuedAt: number;
  headers: Readonly<Record<string, string>>;
  payload: unknown;
}

/** An envelope of a version this library does not read: ours, but not understood. */
export interface UnsupportedEnvelope {
  unsupportedVersion: number;
}

/** Headers of a message that has none (shared, frozen). */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

const V1_KEYS = new Set([ENVELOPE_MARKER, 'id', 't', 'h', 'p']);

// A random prefix per process (72 bits) and a counter: unique across
// processes with overwhelming probability, and ~4× cheaper than randomUUID.
const ID_PREFIX = randomBytes(9).toString('base64url');
let idCounter = 0;

/** A new message id: 12 random URL-safe characters, then a base-36 counter. ASCII, and needs no JSON escaping. */
export function newMessageId(): string {
  idCounter += 1;
  return ID_PREFIX + idCounter.toString(36);
}

/** Every envelope's text up to its id. */
export const ENVELOPE_OPEN = `{"${ENVELOPE_MARKER}":${ENVELOPE_VERSION},"id":"`;
/** Every envelope's text after its payload. */
export const ENVELOPE_CLOSE = '}';

/**
 * An envelope's text between its id and its payload's JSON: the same for
 * every message of a batch (one enqueue time, one set of headers), so an
 * envelope is `ENVELOPE_OPEN` + id + this + payload JSON + `ENVELOPE_CLOSE`.
 * `headers` are validated already (see `assertHeaders`), undefined or empty
 * when none.
 */
export function envelopeMiddle(enqueuedAt: number, headers: Readonly<Record<string, string>> | undefined): string {
  const h = headers !== undefined && Object.keys(headers).length > 0 ? `,"h":${JSON.stringify(headers)}` : '';
  return `","t":${enqueuedAt}${h},"p":`;
}

/**
 * The envelope's text, built around the payload's JSON (never serialised
 * twice). `id` must need no JSON escaping (as `newMessageId`'s do).
 */
export function encodeEnvelope(id: string, enqueuedAt: number, headers: Readonly<Record<string, string>> | undefined, payloadJson: string): string {
  return envelopeAround(id, envelopeMiddle(enqueuedAt, headers), payloadJson);
}

/** `encodeEnvelope` with the middle of its batch already made (`envelopeMiddle`). */
export function envelopeAround(id: string, middle: string, payloadJson: string): string {
  return ENVELOPE_OPEN + id + middle + payloadJson + ENVELOPE_CLOSE;
}

/**
 * Reads a parsed message: an `Envelope` when it has exactly the version-1
 * shape (marker 1, non-empty string `id`, finite `t`, `h` absent or an object
 * of strings, `p` present, no other key); `UnsupportedEnvelope` when its marker
 * is a whole number above 1 with a string `id` and a `p` (the parts every
 * version keeps); undefined for anything else, which is a plain payload (data
 * that merely contains the marker key included).
 */
export function readEnvelope(value: unknown): Envelope | UnsupportedEnvelope | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const version = record[ENVELOPE_MARKER];
  if (version === undefined || Array.isArray(value)) return undefined;
  const { id } = record;
  if (typeof id !== 'string' || id.length === 0 || !('p' in record)) return undefined;
  if (version !== ENVELOPE_VERSION) {
    return Number.isInteger(version) && (version as number) > ENVELOPE_VERSION ? { unsupportedVersion: version as number } : undefined;
  }
  const { t, h } = record;
  if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
  for (const key in record) if (!V1_KEYS.has(key)) return undefined;
  if (h === undefined) return { id, enqueuedAt: t, headers: NO_HEADERS, payload: record.p };
  if (!isStringRecord(h)) return undefined;
  return { id, enqueuedAt: t, headers: h, payload: record.p };
}

/** Whether a text may hold an envelope: cheap, so `raw` handlers parse only the candidates. */
export function mayBeEnvelope(text: string): boolean {
  return text.charCodeAt(0) === 123 /* { */ && text.includes(`"${ENVELOPE_MARKER}"`);
}

/** Throws `InvalidBrokerOptionsError` naming `option` unless `headers` is undefined or an object of string values. */
export function assertHeaders(option: string, headers: unknown): asserts headers is Record<string, string> | undefined {
  if (headers === undefined) return;
  if (!isStringRecord(headers)) {
    throw new InvalidBrokerOptionsError(messages.invalidOption(option, headers, 'an object of string → string'));
  }
  for (const key in headers) {
    if (key.length === 0) throw new InvalidBrokerOptionsError(messages.invalidOption(option, headers, 'header names are non-empty strings'));
  }
}

/** The ms part of a stream entry id (`<ms>-<seq>`): when it was appended. */
export function entryIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/**
 * How long a message waited before its handler started (ms, ≥ 0: the
 * producer's clock may run ahead), from a handler that ran `ranMs` until now;
 * undefined when its enqueue time is unknown.
 */
export function waitMs(enqueuedAt: number | undefined, ranMs: number): number | undefined {
  return enqueuedAt === undefined ? undefined : Math.max(0, Date.now() - ranMs - enqueuedAt);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (typeof (value as Record<string, unknown>)[key] !== 'string') return false;
  return true;
}
