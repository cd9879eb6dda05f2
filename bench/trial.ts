import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ChildHandle } from './child-handle.js';
import type { ChildConfig, ConsumerResult, SystemId } from './protocol.js';
import { benchMessage } from './protocol.js';
import { SYSTEMS } from './scenarios.js';

/** One measured run of one system. */
export interface TrialSpec {
  scenario: string;
  system: SystemId;
  workers: number;
  /** Messages at full speed (0 in the paced and backlog runs). */
  count: number;
  /** Paced: msg/s and duration. */
  rate: number;
  durationMs: number;
  /** Backlog: messages LPUSHed before the consumer starts. */
  prefill: number;
  /**
   * I/O-bound: messages the system's own producer writes before the consumer
   * starts (cold: no warm-up); the run is timed from the first handled message.
   */
  preload: number;
  /** Each handler awaits a timer this long (ms) before it records; 0: synchronous. */
  handlerMs: number;
  /** Messages sent and handled before the measured run, not counted (JIT warm-up; full-speed runs only). */
  warmup: number;
}

export interface TrialResult {
  scenario: string;
  system: SystemId;
  workers: number;
  expected: number;
  handled: number;
  /** First enqueue (or, for a backlog, first handled) to last handled, ms. */
  elapsedMs: number;
  throughput: number;
  /** Largest peak RSS of the consumer processes, bytes. */
  maxRssBytes: number;
  /** I/O-bound: handlers running at once on average (summed over the consumers). */
  meanRunning?: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Redis commands per handled message during the run (INFO commandstats), e.g. `{ evalsha: 1.02 }`. */
  commandsPerMessage?: Record<string, number>;
  /** Redis time inside each command per handled message, µs (INFO commandstats `usec`; commands a script calls count in the script too). */
  commandUsPerMessage?: Record<string, number>;
  /**
   * CPU time per handled message, µs: the consumer processes (first handled
   * to the end), the producer (while sending; absent for a backlog) and
   * `redis-server` (`INFO cpu`, the whole trial).
   */
  cpuUsPerMessage?: { consumer: number; producer?: number; redis: number };
  error?: string;
}

export interface TrialEnvironment {
  redisUrl: string;
  admin: Redis;
  /** Node flags for consumer processes (e.g. `--cpu-prof`). */
  consumerExecArgv: string[];
  log: (line: string) => void;
}

const POLL_MS = 50;
/** With a lossy system (pub/sub), the run ends this long after the last progress once the producer is done. */
const IDLE_END_MS = 3_000;
const PREFILL_CHUNK = 1_000;
const PREFILL_PIPELINE = 20;
let serial = 0;

export async function runTrial(env: TrialEnvironment, spec: TrialSpec): Promise<TrialResult> {
  const target = `bench-${spec.scenario}-${++serial}`;
  const latency = spec.rate > 0;
  const expected = spec.prefill || spec.preload || (latency ? Math.ceil((spec.rate * spec.durationMs) / 1000) : spec.count);
  const base: Omit<ChildConfig, 'role'> = {
    system: spec.system, redisUrl: env.redisUrl, target, concurrency: SYSTEMS[spec.system].concurrency,
    count: spec.count || spec.preload, rate: spec.rate, durationMs: spec.durationMs, latency, handlerMs: spec.handlerMs,
  };
  await env.admin.flushall();
  if (spec.prefill > 0) await prefill(env.admin, target, spec.prefill);
  const consumers: ChildHandle[] = [];
  let producer: ChildHandle | undefined;
  let redisCpuAtStart = 0;
  const resetRedisStats = async (): Promise<void> => {
    await env.admin.config('RESETSTAT');
    redisCpuAtStart = redisCpuUs(await env.admin.info('cpu'));
  };
  try {
    if (spec.preload > 0) {
      // Written before any consumer exists, by the system's own producer, which then exits.
      producer = new ChildHandle({ ...base, role: 'producer' });
      await producer.ready;
      await producer.ask({ type: 'warm', count: spec.preload }, 'warmed');
      await producer.stop();
      producer = undefined;
    }
    await resetRedisStats();
    for (let i = 0; i < spec.workers; i++) consumers.push(new ChildHandle({ ...base, role: 'consumer' }, env.consumerExecArgv));
    await Promise.all(consumers.map((c) => c.ready));
    let produced: Promise<{ firstAt: number; cpuUs: number }> | undefined;
    let producerDone = spec.prefill > 0 || spec.preload > 0;
    if (!producerDone) {
      producer = new ChildHandle({ ...base, role: 'producer' });
      await producer.ready;
      if (spec.warmup > 0) {
        await producer.ask({ type: 'warm', count: spec.warmup }, 'warmed');
        await waitForHandled(consumers, spec.warmup, () => true, timeoutFor(spec.warmup));
        await Promise.all(consumers.map((c) => c.ask({ type: 'reset' }, 'reset')));
        await resetRedisStats();
      }
      produced = producer.ask({ type: 'go' }, 'produced');
      produced.then(() => (producerDone = true), () => undefined);
    }
    await waitForHandled(consumers, expected, () => producerDone, timeoutFor(expected));
    const results = await Promise.all(consumers.map((c) => c.ask({ type: 'finish' }, 'result')));
    const startAt = produced ? (await produced).firstAt : Math.min(...results.filter((r) => r.handled > 0).map((r) => r.firstAt));
    const result = summarise(spec, expected, startAt, results);
    const commandStats = await env.admin.info('commandstats');
    result.commandsPerMessage = commandsPerMessage(commandStats, result.handled);
    result.commandUsPerMessage = commandUsPerMessage(commandStats, result.handled);
    const perMessage = (us: number): number => Math.round((us / Math.max(1, result.handled)) * 100) / 100;
    result.cpuUsPerMessage = {
      consumer: perMessage(results.reduce((sum, r) => sum + r.cpuUs, 0)),
      ...(produced ? { producer: perMessage((await produced).cpuUs) } : {}),
      redis: perMessage(redisCpuUs(await env.admin.info('cpu')) - redisCpuAtStart),
    };
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    env.log(`  ! ${spec.scenario} ${spec.system} x${spec.workers}: ${message}`);
    return { scenario: spec.scenario, system: spec.system, workers: spec.workers, expected, handled: 0, elapsedMs: 0, throughput: 0, maxRssBytes: 0, error: message };
  } finally {
    await Promise.all([...consumers, ...(producer ? [producer] : [])].map((c) => c.stop()));
  }
}

/** How long `count` messages may take before a run counts as stuck. */
function timeoutFor(count: number): number {
  return 60_000 + count * 2;
}

/**
 * Polls the consumers until they handled `count` messages in all, or (a lossy
 * system) the producer is done and nothing more arrived for a while; throws
 * after `timeoutMs`.
 */
async function waitForHandled(consumers: ChildHandle[], count: number, producerDone: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    await sleep(POLL_MS);
    const progress = await Promise.all(consumers.map((c) => c.ask({ type: 'report' }, 'progress')));
    const handled = progress.reduce((sum, p) => sum + p.handled, 0);
    if (handled >= count) return;
    if (handled !== last) {
      last = handled;
      lastChange = Date.now();
    }
    if (producerDone() && Date.now() - lastChange > IDLE_END_MS) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out with ${handled}/${count} handled`);
  }
}

function summarise(spec: TrialSpec, expected: number, startAt: number, results: ConsumerResult[]): TrialResult {
  const handled = results.reduce((sum, r) => sum + r.handled, 0);
  const endAt = Math.max(...results.map((r) => r.lastAt));
  const elapsedMs = Math.max(0.001, endAt - startAt);
  const out: TrialResult = {
    scenario: spec.scenario, system: spec.system, workers: spec.workers, expected, handled, elapsedMs,
    throughput: (handled / elapsedMs) * 1000,
    maxRssBytes: Math.max(...results.map((r) => r.maxRssBytes)),
  };
  if (results.some((r) => r.meanRunning !== undefined)) out.meanRunning = results.reduce((sum, r) => sum + (r.meanRunning ?? 0), 0);
  const latency = results[0].latency;
  if (latency) Object.assign(out, { p50Ms: latency.p50, p99Ms: latency.p99, maxMs: latency.max });
  return out;
}

/** Fills the list with `count` messages in the wire format every list system reads (JSON text). */
async function prefill(admin: Redis, target: string, count: number): Promise<void> {
  let id = 0;
  while (id < count) {
    const pipeline = admin.pipeline();
    for (let c = 0; c < PREFILL_PIPELINE && id < count; c++) {
      const bodies: string[] = [];
      for (const end = Math.min(count, id + PREFILL_CHUNK); id < end; id++) bodies.push(JSON.stringify(benchMessage(id)));
      pipeline.lpush(target, ...bodies);
    }
    const replies = await pipeline.exec();
    for (const [error] of replies ?? []) if (error) throw error;
  }
}

/** `cmdstat_evalsha:calls=12,usec=345,...` lines → µs per handled message, largest first (0.01 µs and up). */
function commandUsPerMessage(info: string, handled: number): Record<string, number> {
  const out: [string, number][] = [];
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)) {
    if (match[1] === 'info' || match[1] === 'config') continue;
    const us = Math.round((Number(match[2]) / Math.max(1, handled)) * 100) / 100;
    if (us >= 0.01) out.push([match[1], us]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}

/** `INFO cpu` → the server's user + system CPU time so far, µs. */
function redisCpuUs(info: string): number {
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/** `cmdstat_evalsha:calls=12,...` lines → calls per handled message, largest first. */
function commandsPerMessage(info: string, handled: number): Record<string, number> {
  const out: [string, number][] = [];
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] === 'info' || match[1] === 'config') continue;
    out.push([match[1], Math.round((Number(match[2]) / Math.max(1, handled)) * 1000) / 1000]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}
