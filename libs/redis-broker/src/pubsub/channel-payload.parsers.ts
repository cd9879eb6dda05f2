import type { ResolvedChannelListenerOptions } from '../core/options/handler.options.js';

/** First characters a JSON text can start with (after optional white space). */
const JSON_START = /^[\s]*[{["\d\-tfn]/;

/** Turns a channel message's text into the handler's payload, per `parse` option. */
export const CHANNEL_PAYLOAD_PARSERS: Record<ResolvedChannelListenerOptions['parse'], (raw: string) => unknown> = {
  raw: (raw) => raw,
  json: (raw) => JSON.parse(raw) as unknown,
  // Plain words (`PUBLISH hello world`) skip the throw-and-catch of a failed parse.
  auto: (raw) => {
    if (!JSON_START.test(raw)) return raw;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  },
};
