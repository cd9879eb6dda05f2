/** How many messages one consumer loop holds, and how many of them it fetches ahead of free slots. */
export interface FetchWindow {
  /** Most messages held at once (running + waiting): the memory bound. */
  held: number;
  /**
   * Messages fetched ahead of free slots that start without another round
   * trip (a reliable queue records them as running, not waiting).
   */
  readAhead: number;
}

/**
 * The window of a queue or stream handler: `readAhead: 'auto'` reads ahead
 * `concurrency` messages when no `prefetch` is set, and nothing beyond a set
 * `prefetch` (whose unstarted messages stay unblamed, as before read-ahead).
 */
export function fetchWindow(options: { concurrency: number; prefetch: number; readAhead: number | 'auto' }): FetchWindow {
  const { concurrency, prefetch } = options;
  const readAhead = options.readAhead === 'auto' ? (prefetch > 0 ? 0 : concurrency) : options.readAhead;
  return { held: Math.max(prefetch, concurrency + readAhead), readAhead };
}
