/** How many messages one consumer loop holds, and how many of them it fetches ahead of free slots. */
export interface FetchWindow {
  /** Most messages held at once (running + waiting): the memory bound. */
  held: number;
  /**
   * Messages fetched ahead of free slots that start without another round
   * trip (a reliable queue records them as running, not waiting).
   */
  readAhead: number;
  /**
   * Most messages one fetch takes: half the window (rounded up), so one fetch
   * can be under way while the last one's messages are dispatched.
   */
  fetchMax: number;
}

/**
 * The window of a queue or stream handler: `readAhead: 'auto'` reads ahead
 * `concurrency` messages when no `prefetch` is set and `concurrency` is above
 * 1; nothing with a set `prefetch` (whose unstarted messages stay unblamed,
 * as before read-ahead), nor for a handler that runs one message at a time
 * (the usual shape of long jobs, where a message held behind a running one
 * would wait while another process could run it).
 */
export function fetchWindow(options: { concurrency: number; prefetch: number; readAhead: number | 'auto' }): FetchWindow {
  const { concurrency, prefetch } = options;
  const readAhead = options.readAhead === 'auto' ? (prefetch > 0 || concurrency === 1 ? 0 : concurrency) : options.readAhead;
  const held = Math.max(prefetch, concurrency + readAhead);
  return { held, readAhead, fetchMax: Math.ceil(held / 2) };
}
