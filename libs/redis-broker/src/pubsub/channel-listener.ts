import type { ChannelMessageContext } from './channel-message.context.js';

/**
 * A function that handles channel messages: a decorated method (through Nest's
 * enhancer pipeline) or a runtime listener. It may return a promise.
 * @publicApi
 */
export type ChannelListener = (payload: unknown, context: ChannelMessageContext) => unknown;

/**
 * One listener's counters, for metrics and tests.
 * @publicApi
 */
export interface ChannelListenerStats {
  /** `Class@method` of a decorated handler, or the label of a runtime listener. */
  handler: string;
  /** `channel "hello"`, `pattern "user.*"` or `sharded channel "orders"`. */
  source: string;
  /** Messages waiting in the buffer now. */
  buffered: number;
  /** Their size in bytes (UTF-8, as received), never above `maxBufferBytes`. */
  bufferedBytes: number;
  /** The most messages the buffer ever held at once (never above `bufferSize`). */
  highWater: number;
  bufferSize: number;
  maxBufferBytes: number;
  /** Handler runs in progress now. */
  running: number;
  /** Messages dropped because the buffer was full, since start. */
  dropped: number;
  handled: number;
  failed: number;
}
