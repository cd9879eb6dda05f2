import { mayBeEnvelope, readEnvelope, ENVELOPE_VERSION, type Envelope } from '../core/envelope.js';
import { errorText } from '../core/error-text.js';
import type { DeadLetterReason } from './queue.settler.js';

/** A queue message read: what the handler gets, and its envelope when it came in one. */
export interface QueueMessageRead {
  payload: unknown;
  envelope: Envelope | undefined;
}

/** Why a message cannot be given to its handler. */
export interface QueueMessageRefused {
  reason: DeadLetterReason;
  error: string;
}

/**
 * Reads a message's text with one `JSON.parse`: an envelope gives its payload
 * and metadata, any other text is a plain payload as before envelopes (`json`:
 * parsed, `raw`: the text). With `raw`, only a text that may be an envelope is
 * parsed, and the handler gets its payload's JSON text. An envelope of a newer
 * version is refused: run as plain, its handler would see the envelope.
 */
export function readQueueMessage(raw: string, parse: 'json' | 'raw'): QueueMessageRead | QueueMessageRefused {
  let value: unknown;
  if (parse === 'json') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return { reason: 'unparsable', error: `not JSON: ${errorText(error)}` };
    }
  } else {
    if (!mayBeEnvelope(raw)) return { payload: raw, envelope: undefined };
    try {
      value = JSON.parse(raw);
    } catch {
      return { payload: raw, envelope: undefined };
    }
  }
  const envelope = readEnvelope(value);
  if (envelope === undefined) return { payload: parse === 'json' ? value : raw, envelope: undefined };
  if ('unsupportedVersion' in envelope) {
    return {
      reason: 'unsupported-envelope',
      error: `envelope version ${envelope.unsupportedVersion}; this worker reads version ${ENVELOPE_VERSION} (upgrade the workers before the producers)`,
    };
  }
  return { payload: parse === 'json' ? envelope.payload : JSON.stringify(envelope.payload), envelope };
}
