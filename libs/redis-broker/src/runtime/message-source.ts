/**
 * Where a consumer loop gets its messages: a list fetcher, a stream group
 * reader. Each source owns its blocking connection.
 */
export interface MessageSource<M> {
  /** For logs: `queue "emails"`. */
  readonly description: string;
  /** Registers the consumer and recovers what a previous run left. */
  start(): Promise<void>;
  /**
   * Takes up to `max` messages, blocking no longer than the source's timeout;
   * `[]` when none came. The first `startable` of them start running as soon
   * as they arrive (a source may record that in the same round trip).
   */
  fetch(max: number, startable: number): Promise<M[]>;
  /** Makes a pending `fetch` return soon, without losing what it took. */
  interrupt(): void;
  /** Gives back messages fetched but never started (shutdown), so another consumer takes them. */
  handBack(messages: M[]): Promise<void>;
  /** Hands back what is still held and closes the source's connection. */
  stop(): Promise<void>;
}

/** A running consumer of one handler, as the runner sees it. */
export interface BrokerConsumer {
  readonly description: string;
  start(): Promise<void>;
  /** Stops fetching at once, waits for running handlers until `deadline` (epoch ms), hands back the rest. */
  stop(deadline: number): Promise<void>;
  /** Liveness for health checks. */
  health(): ConsumerHealth;
}

/** What a health check needs to know of one consumer. */
export interface ConsumerHealth {
  description: string;
  /** `running`, `stopping` or `stopped`. */
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  /** Epoch ms of the last completed fetch (with or without messages). */
  lastFetchAt: number;
  /** Longest a healthy fetch may block, in ms. */
  blockTimeoutMs: number;
  /** Whether the last fetch failed (connection down). */
  failing: boolean;
  inFlight: number;
  /** Whether the loop is waiting for a free handler slot (busy, not stuck); absent for sources without a fetch loop. */
  waitingForCapacity?: boolean;
}
