import type { SystemId } from './protocol.js';

/** How a system appears in the tables, and how many handlers one of its processes runs. */
export interface SystemInfo {
  label: string;
  concurrency: number;
}

export const SYSTEMS: Record<SystemId, SystemInfo> = {
  'nrb-reliable': { label: 'nest-redis-broker list, reliable (c50)', concurrency: 50 },
  'nrb-fast': { label: 'nest-redis-broker list, fast (c50)', concurrency: 50 },
  'nrb-stream': { label: 'nest-redis-broker stream group (c50)', concurrency: 50 },
  'nrb-pubsub': { label: 'nest-redis-broker @OnChannel', concurrency: 1 },
  'nrb-otel-absent': { label: 'nest-redis-broker list, reliable, @opentelemetry/api not installed (c50)', concurrency: 50 },
  'nrb-otel-unsampled': { label: 'nest-redis-broker list, reliable, provider registered, sampling off (c50)', concurrency: 50 },
  'nrb-otel-recording': { label: 'nest-redis-broker list, reliable, every span recorded (c50)', concurrency: 50 },
  'nrb-batch-list': { label: 'nest-redis-broker list, reliable, batch 100', concurrency: 1 },
  'nrb-batch-list-fast': { label: 'nest-redis-broker list, fast (at-most-once), batch 100', concurrency: 1 },
  'nrb-batch-stream': { label: 'nest-redis-broker stream group, batch 100', concurrency: 1 },
  'bullmq-c1': { label: 'BullMQ (c1)', concurrency: 1 },
  'bullmq-c50': { label: 'BullMQ (c50)', concurrency: 50 },
  'raw-list': { label: 'raw ioredis LPUSH + BLMPOP COUNT 100', concurrency: 1 },
  'raw-list-envelope': { label: 'raw ioredis LPUSH + BLMPOP COUNT 100, enveloped messages', concurrency: 1 },
  'raw-stream': { label: 'raw ioredis XADD + XREADGROUP COUNT 100 + XACK', concurrency: 1 },
  'raw-pubsub': { label: 'raw ioredis bare subscriber', concurrency: 1 },
  'bound-sleep': { label: 'bare Node loops, 50 × await sleep (the bound, no Redis)', concurrency: 50 },
};

export type ScenarioKind = 'throughput' | 'latency' | 'backlog' | 'scaling' | 'io';

export interface Scenario {
  id: string;
  title: string;
  kind: ScenarioKind;
  systems: SystemId[];
  /** Without the warm-up: freshly started processes, every system alike. */
  cold?: boolean;
}

/** `batch.size` of the batch systems: the raw ceiling's COUNT (bench/systems/raw.ts). */
export const BENCH_BATCH_SIZE = 100;

/** Every scenario, in the order they run within one repetition. */
export const SCENARIOS: Scenario[] = [
  { id: 'list', title: 'List queue, end to end throughput', kind: 'throughput', systems: ['nrb-reliable', 'nrb-fast', 'bullmq-c1', 'bullmq-c50', 'raw-list', 'raw-list-envelope'] },
  { id: 'stream', title: 'Stream consumer group, end to end throughput', kind: 'throughput', systems: ['nrb-stream', 'raw-stream'] },
  // Batch handlers against the raw loops with the same COUNT, cold (no warm-up) and warm.
  { id: 'batch-list-cold', title: 'Batch list handler, cold processes (no warm-up)', kind: 'throughput', systems: ['nrb-batch-list', 'nrb-batch-list-fast', 'raw-list'], cold: true },
  { id: 'batch-list', title: 'Batch list handler, warm', kind: 'throughput', systems: ['nrb-batch-list', 'nrb-batch-list-fast', 'raw-list'] },
  { id: 'batch-stream-cold', title: 'Batch stream consumer, cold processes (no warm-up)', kind: 'throughput', systems: ['nrb-batch-stream', 'raw-stream'], cold: true },
  { id: 'batch-stream', title: 'Batch stream consumer, warm', kind: 'throughput', systems: ['nrb-batch-stream', 'raw-stream'] },
  { id: 'pubsub', title: 'Pub/sub dispatch throughput', kind: 'throughput', systems: ['nrb-pubsub', 'raw-pubsub'] },
  // Warm: after the same full-speed warm-up as the throughput runs (a worker runs for hours); cold: the
  // first seconds of fresh processes, where V8 has not compiled the hot paths yet.
  { id: 'latency', title: 'Paced enqueue-to-handler latency, warm', kind: 'latency', systems: ['nrb-reliable', 'nrb-stream', 'bullmq-c50', 'raw-list', 'raw-stream'] },
  {
    id: 'latency-cold', title: 'Paced enqueue-to-handler latency, cold processes (no warm-up)', kind: 'latency',
    systems: ['nrb-reliable', 'nrb-stream', 'raw-list', 'raw-stream'], cold: true,
  },
  { id: 'scaling', title: 'Worker processes on one queue', kind: 'scaling', systems: ['nrb-reliable', 'bullmq-c50', 'raw-list'] },
  // nrb-reliable has the api installed and no provider registered: tracing off, the default.
  { id: 'tracing', title: 'OpenTelemetry tracing off, unsampled and recording', kind: 'throughput', systems: ['nrb-reliable', 'nrb-otel-absent', 'nrb-otel-unsampled', 'nrb-otel-recording'] },
  { id: 'backlog', title: 'Draining a backlog', kind: 'backlog', systems: ['nrb-reliable', 'nrb-fast', 'raw-list'] },
  {
    id: 'io', title: 'I/O-bound handler (awaits 2 ms), concurrency 50, prefilled, cold processes', kind: 'io',
    systems: ['nrb-reliable', 'nrb-stream', 'bullmq-c50', 'bound-sleep'],
  },
];

/** What the handlers of the I/O-bound scenario await (`setTimeout`), ms. */
export const IO_HANDLER_MS = 2;

/** Worker process counts of the scaling scenario. */
export const SCALING_WORKERS = [1, 2, 4];
