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
  'bullmq-c1': { label: 'BullMQ (c1)', concurrency: 1 },
  'bullmq-c50': { label: 'BullMQ (c50)', concurrency: 50 },
  'raw-list': { label: 'raw ioredis LPUSH + BLMPOP COUNT 100', concurrency: 1 },
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
}

/** Every scenario, in the order they run within one repetition. */
export const SCENARIOS: Scenario[] = [
  { id: 'list', title: 'List queue, end to end throughput', kind: 'throughput', systems: ['nrb-reliable', 'nrb-fast', 'bullmq-c1', 'bullmq-c50', 'raw-list'] },
  { id: 'stream', title: 'Stream consumer group, end to end throughput', kind: 'throughput', systems: ['nrb-stream', 'raw-stream'] },
  { id: 'pubsub', title: 'Pub/sub dispatch throughput', kind: 'throughput', systems: ['nrb-pubsub', 'raw-pubsub'] },
  { id: 'latency', title: 'Paced enqueue-to-handler latency', kind: 'latency', systems: ['nrb-reliable', 'nrb-stream', 'bullmq-c50', 'raw-list', 'raw-stream'] },
  { id: 'scaling', title: 'Worker processes on one queue', kind: 'scaling', systems: ['nrb-reliable', 'bullmq-c50', 'raw-list'] },
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
