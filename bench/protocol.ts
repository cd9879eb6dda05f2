// What the orchestrator (bench/run.ts) and its child processes (bench/child.ts)
// say to each other over the IPC channel of `fork`, and the benchmark message.

/** Every system a scenario can run. */
export type SystemId =
  | 'nrb-reliable'
  | 'nrb-fast'
  | 'nrb-stream'
  | 'nrb-pubsub'
  | 'nrb-otel-absent'
  | 'nrb-otel-unsampled'
  | 'nrb-otel-recording'
  | 'nrb-batch-list'
  | 'nrb-batch-list-fast'
  | 'nrb-batch-stream'
  | 'bullmq-c1'
  | 'bullmq-c50'
  | 'raw-list'
  /** The raw list loop carrying the envelope's bytes (id, enqueue time) as any client can write them: what the wire costs without the library. */
  | 'raw-list-envelope'
  | 'raw-stream'
  | 'raw-pubsub'
  /** No Redis: `concurrency` Node loops awaiting the handler's sleep, the bound of the I/O-bound scenario. */
  | 'bound-sleep';

/** How a child is asked to behave. Passed as JSON in argv[2]. */
export interface ChildConfig {
  role: 'consumer' | 'producer';
  system: SystemId;
  redisUrl: string;
  /** Queue, stream or channel name. */
  target: string;
  /** Handlers at once in one consumer process. */
  concurrency: number;
  /** Producer: messages to send as fast as possible (when `rate` is 0). */
  count: number;
  /** Producer: messages per second, one command each (0: batches at full speed). */
  rate: number;
  /** Producer: how long to send at `rate`, in ms. */
  durationMs: number;
  /** Consumer: keep every enqueue-to-handler latency (paced scenario). */
  latency: boolean;
  /** Consumer: each handler awaits a timer of this many ms before it records (0: a synchronous handler). */
  handlerMs: number;
}

/** Parent → child. */
export type ParentMessage =
  | { type: 'go' }
  /** Producer: send `count` messages at full speed first (the warm-up, not timed). */
  | { type: 'warm'; count: number }
  /** Consumer: forget what was handled so far (the warm-up). */
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'finish' }
  | { type: 'stop' };

/** What a consumer has done so far. Times are epoch ms with sub-ms precision. */
export interface ConsumerProgress {
  handled: number;
  firstAt: number;
  lastAt: number;
}

/** A consumer's final word. */
export interface ConsumerResult extends ConsumerProgress {
  /** Peak resident set size of the process, bytes. */
  maxRssBytes: number;
  /** CPU time the process used from its first handled message to this result, µs (user + system). */
  cpuUs: number;
  /** I/O-bound handlers: how many ran at once on average, from the first start to the last end. */
  meanRunning?: number;
  /** Enqueue-to-handler latency percentiles in ms, when asked for. */
  latency?: { p50: number; p99: number; max: number; samples: number };
}

/** Child → parent. */
export type ChildMessage =
  | { type: 'ready' }
  | ({ type: 'progress' } & ConsumerProgress)
  | ({ type: 'result' } & ConsumerResult)
  | { type: 'produced'; sent: number; firstAt: number; lastAt: number; cpuUs: number }
  | { type: 'warmed' }
  | { type: 'reset' }
  | { type: 'error'; message: string };

/** The benchmark message: about 100 bytes of JSON. */
export interface BenchMessage {
  id: number;
  /** Epoch ms (sub-ms) when the producer created it. */
  ts: number;
  user: string;
  event: string;
  data: string;
}

/** A wall clock with sub-millisecond precision, comparable across processes of one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

const FILLER = 'x'.repeat(24);

export function benchMessage(id: number): BenchMessage {
  return { id, ts: now(), user: `user-${String(id % 100_000).padStart(5, '0')}`, event: 'page-view', data: FILLER };
}

/** The same message as a flat stream field map. */
export function benchFields(message: BenchMessage): Record<string, string> {
  return { id: String(message.id), ts: String(message.ts), user: message.user, event: message.event, data: message.data };
}
