import type { SystemId } from './protocol.js';
import { SCENARIOS, SYSTEMS } from './scenarios.js';
import type { TrialResult } from './trial.js';

/** The median of every repetition of one system in one scenario (and worker count). */
export interface Summary {
  scenario: string;
  system: SystemId;
  workers: number;
  runs: number;
  failed: number;
  throughput: number;
  /** Each repetition's throughput in run order; undefined for one that failed. */
  repetitions: (number | undefined)[];
  handledRatio: number;
  p50Ms?: number;
  p99Ms?: number;
  maxRssMb: number;
  /** I/O-bound: median of the mean number of handlers running at once. */
  meanRunning?: number;
  /** Median CPU µs per message of the consumer processes, the producer and Redis. */
  cpuUsPerMessage?: { consumer: number; producer?: number; redis: number };
}

/** A bar of issue 7, as measured. */
export interface BarCheck {
  bar: string;
  measured: string;
  pass: boolean | undefined;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarise(results: TrialResult[]): Summary[] {
  const groups = new Map<string, TrialResult[]>();
  for (const r of results) {
    const key = `${r.scenario}|${r.system}|${r.workers}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: Summary[] = [];
  for (const runs of groups.values()) {
    const ok = runs.filter((r) => !r.error);
    const { scenario, system, workers } = runs[0];
    const summary: Summary = {
      scenario, system, workers, runs: runs.length, failed: runs.length - ok.length,
      throughput: median(ok.map((r) => r.throughput)),
      repetitions: runs.map((r) => (r.error ? undefined : r.throughput)),
      handledRatio: median(ok.map((r) => r.handled / r.expected)),
      maxRssMb: median(ok.map((r) => r.maxRssBytes / 2 ** 20)),
    };
    const cpu = ok.flatMap((r) => (r.cpuUsPerMessage ? [r.cpuUsPerMessage] : []));
    if (cpu.length > 0) {
      const producer = cpu.flatMap((c) => (c.producer === undefined ? [] : [c.producer]));
      summary.cpuUsPerMessage = {
        consumer: median(cpu.map((c) => c.consumer)),
        ...(producer.length > 0 ? { producer: median(producer) } : {}),
        redis: median(cpu.map((c) => c.redis)),
      };
    }
    if (ok.some((r) => r.meanRunning !== undefined)) summary.meanRunning = median(ok.map((r) => r.meanRunning ?? NaN));
    if (ok.some((r) => r.p99Ms !== undefined)) {
      summary.p50Ms = median(ok.map((r) => r.p50Ms ?? NaN));
      summary.p99Ms = median(ok.map((r) => r.p99Ms ?? NaN));
    }
    out.push(summary);
  }
  return out;
}

function find(summaries: Summary[], scenario: string, system: SystemId, workers = 1): Summary | undefined {
  return summaries.find((s) => s.scenario === scenario && s.system === system && s.workers === workers && s.failed < s.runs);
}

/** Ratio of medians a/b, from the same run. */
function ratio(a: Summary | undefined, b: Summary | undefined): number | undefined {
  return a && b && b.throughput > 0 ? a.throughput / b.throughput : undefined;
}

/**
 * a/b repetition by repetition: the two systems of one repetition run one
 * after the other, so each pair shares the machine's state of the moment,
 * which on a shared machine moves the ratio of medians by tens of points.
 * Undefined for a pair with a failed side.
 */
export function pairedRatios(a: Summary | undefined, b: Summary | undefined): (number | undefined)[] {
  if (!a || !b) return [];
  const count = Math.min(a.repetitions.length, b.repetitions.length);
  return Array.from({ length: count }, (_, i) => {
    const x = a.repetitions[i];
    const y = b.repetitions[i];
    return x !== undefined && y !== undefined && y > 0 ? x / y : undefined;
  });
}

function ratioBar(bar: string, value: number | undefined, min: number, percent: boolean, pairs: (number | undefined)[]): BarCheck {
  if (value === undefined) return { bar, measured: 'not measured', pass: undefined };
  return { bar, measured: ratioText(value, percent, pairs), pass: value >= min };
}

/** A ratio as text ("42 %" or "8.65×"), with each repetition's own ratio beside it when there are several. */
function ratioText(value: number, percent: boolean, pairs: (number | undefined)[]): string {
  const show = (v: number | undefined): string => (v === undefined ? 'failed' : percent ? (v * 100).toFixed(0) : v.toFixed(2));
  const unit = percent ? ' %' : '×';
  // With more than one repetition, each one's own ratio shows the spread the median hides.
  const spread = pairs.length > 1 ? ` (repetitions ${pairs.map(show).join(', ')}${unit})` : '';
  return `${show(value)}${unit}${spread}`;
}

/** A throughput bar: the ratio of medians decides; the repetitions' own ratios are shown beside it. */
function throughputBar(bar: string, a: Summary | undefined, b: Summary | undefined, min: number, percent: boolean): BarCheck {
  return ratioBar(bar, ratio(a, b), min, percent, pairedRatios(a, b));
}

function maxBar(bar: string, value: number | undefined, max: number, unit: string): BarCheck {
  if (value === undefined || Number.isNaN(value)) return { bar, measured: 'not measured', pass: undefined };
  return { bar, measured: `${value.toFixed(unit === 'MB' ? 0 : 2)} ${unit}`, pass: value <= max };
}

export function checkBars(s: Summary[]): BarCheck[] {
  return [
    throughputBar('reliable list ≥ 3× BullMQ c50', find(s, 'list', 'nrb-reliable'), find(s, 'list', 'bullmq-c50'), 3, false),
    throughputBar('reliable list ≥ 60 % of raw list', find(s, 'list', 'nrb-reliable'), find(s, 'list', 'raw-list'), 0.6, true),
    throughputBar('stream group ≥ 60 % of raw stream', find(s, 'stream', 'nrb-stream'), find(s, 'stream', 'raw-stream'), 0.6, true),
    throughputBar('pub/sub ≥ 80 % of bare subscriber', find(s, 'pubsub', 'nrb-pubsub'), find(s, 'pubsub', 'raw-pubsub'), 0.8, true),
    ...batchBars(s),
    maxBar('list p99 ≤ 5 ms at 5k msg/s (warm)', find(s, 'latency', 'nrb-reliable')?.p99Ms, 5, 'ms'),
    maxBar('list p99 ≤ 5 ms at 5k msg/s (cold)', find(s, 'latency-cold', 'nrb-reliable')?.p99Ms, 5, 'ms'),
    maxBar('stream p99 ≤ 5 ms at 5k msg/s (warm)', find(s, 'latency', 'nrb-stream')?.p99Ms, 5, 'ms'),
    maxBar('stream p99 ≤ 5 ms at 5k msg/s (cold)', find(s, 'latency-cold', 'nrb-stream')?.p99Ms, 5, 'ms'),
    throughputBar('tracing off (api installed, no provider) ≥ 95 % of api absent', find(s, 'tracing', 'nrb-reliable'), find(s, 'tracing', 'nrb-otel-absent'), 0.95, true),
    maxBar('consumer peak RSS ≤ 150 MB draining the backlog', find(s, 'backlog', 'nrb-reliable')?.maxRssMb, 150, 'MB'),
    throughputBar('I/O-bound reliable queue ≥ 90 % of the bound', find(s, 'io', 'nrb-reliable'), find(s, 'io', 'bound-sleep'), 0.9, true),
    throughputBar('I/O-bound stream group ≥ 90 % of the bound', find(s, 'io', 'nrb-stream'), find(s, 'io', 'bound-sleep'), 0.9, true),
  ];
}

/** Issue 18: batch handlers ≥ 90 % of the raw loop with the same COUNT, cold and warm. */
function batchBars(s: Summary[]): BarCheck[] {
  return (['list', 'stream'] as const).flatMap((kind) => (['-cold', ''] as const).map((temp) => {
    const scenario = `batch-${kind}${temp}`;
    return throughputBar(`batch ${kind} ≥ 90 % of raw ${kind} (${temp ? 'cold' : 'warm'})`, find(s, scenario, `nrb-batch-${kind}`), find(s, scenario, `raw-${kind}`), 0.9, true);
  }));
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Markdown: one table per scenario, ratios to the scenario's raw ceiling, then the bars. */
export function renderMarkdown(summaries: Summary[], bars: BarCheck[]): string {
  const parts: string[] = [];
  for (const scenario of SCENARIOS) {
    const rows = summaries.filter((s) => s.scenario === scenario.id);
    if (rows.length === 0) continue;
    // The tracing scenario's reference is the library without the api ("vs raw" there reads "vs api absent"),
    // the I/O-bound scenario's its bare-loop bound, every other's the raw ioredis loop.
    const ceiling = (workers: number): Summary | undefined =>
      rows.find((s) => isCeiling(s.system) && s.workers === workers && s.failed < s.runs);
    const failed = (s: Summary): string => (s.failed > 0 ? ` (${s.failed}/${s.runs} failed)` : '');
    parts.push(`### ${scenario.title}\n`);
    if (scenario.kind === 'latency') {
      parts.push(table(['system', 'p50 ms', 'p99 ms', 'handled'], rows.map((s) => [
        SYSTEMS[s.system].label + failed(s), fmt(s.p50Ms, 2), fmt(s.p99Ms, 2), `${fmt(s.handledRatio * 100)} %`,
      ])));
    } else if (scenario.kind === 'io') {
      parts.push(table(['system', 'msg/s', 'vs bound', 'handlers running (mean)', 'delivered', 'peak RSS MB', 'CPU µs/msg: consumer / Redis'], rows.map((s) => [
        SYSTEMS[s.system].label + failed(s), fmt(s.throughput), pct(ratio(s, ceiling(1))), fmt(s.meanRunning, 1),
        `${fmt(s.handledRatio * 100)} %`, fmt(s.maxRssMb), cpuCell(s),
      ])));
    } else if (scenario.kind === 'backlog') {
      parts.push(table(['system', 'msg/s', 'vs raw', 'peak RSS MB', 'CPU µs/msg: consumer / Redis'], rows.map((s) => [
        SYSTEMS[s.system].label + failed(s), fmt(s.throughput), pct(ratio(s, ceiling(1))), fmt(s.maxRssMb), cpuCell(s),
      ])));
    } else {
      const withWorkers = scenario.kind === 'scaling';
      parts.push(table([...(withWorkers ? ['workers'] : []), 'system', 'msg/s', 'vs raw', 'delivered', 'peak RSS MB', 'CPU µs/msg: consumer / producer / Redis'], rows.map((s) => [
        ...(withWorkers ? [String(s.workers)] : []), SYSTEMS[s.system].label + failed(s), fmt(s.throughput), pct(ratio(s, ceiling(s.workers))),
        `${fmt(s.handledRatio * 100)} %`, fmt(s.maxRssMb), cpuCell(s),
      ])));
    }
    parts.push('');
  }
  const envelope = envelopeCost(summaries);
  if (envelope.length > 0) {
    parts.push("### The envelope's cost on the list scenario\n");
    parts.push(table(['measure', 'ratio of medians (repetitions)'], envelope.map((line) => [line.measure, line.measured])));
    parts.push('');
  }
  parts.push('### Bars\n');
  parts.push(table(['bar', 'measured', 'result'], bars.map((b) => [b.bar, b.measured, b.pass === undefined ? '–' : b.pass ? 'met' : 'missed'])));
  return parts.join('\n');
}

/** The reference of a scenario's "vs raw" column: a plain raw loop, the bound, or the library without the api. */
function isCeiling(system: SystemId): boolean {
  return system === 'nrb-otel-absent' || system.startsWith('bound-') || (system.startsWith('raw-') && !system.endsWith('-envelope'));
}

/** One line of the envelope's cost: not a bar, a reading. */
export interface EnvelopeCostLine {
  measure: string;
  measured: string;
}

/**
 * The list scenario split in two, from the same run: what the envelope's
 * bytes cost a bare loop (the enveloped raw loop against the plain one), and
 * what the library costs on the same wire (reliable list against the
 * enveloped raw loop). Empty when the enveloped loop did not run.
 */
export function envelopeCost(s: Summary[]): EnvelopeCostLine[] {
  const enveloped = find(s, 'list', 'raw-list-envelope');
  if (!enveloped) return [];
  const line = (measure: string, a: Summary | undefined, b: Summary | undefined): EnvelopeCostLine[] => {
    const value = ratio(a, b);
    return value === undefined ? [] : [{ measure, measured: ratioText(value, true, pairedRatios(a, b)) }];
  };
  return [
    ...line('raw loop, enveloped messages, against plain ones', enveloped, find(s, 'list', 'raw-list')),
    ...line('reliable list against the raw loop, both enveloped', find(s, 'list', 'nrb-reliable'), enveloped),
    ...line('fast list against the raw loop, both enveloped', find(s, 'list', 'nrb-fast'), enveloped),
  ];
}

/** "consumer / producer / Redis" CPU µs per message (no producer for a backlog). */
function cpuCell(s: Summary): string {
  const cpu = s.cpuUsPerMessage;
  if (!cpu) return '–';
  return [cpu.consumer, ...(cpu.producer === undefined ? [] : [cpu.producer]), cpu.redis].map((us) => fmt(us, 1)).join(' / ');
}

function pct(value: number | undefined): string {
  return value === undefined ? '–' : `${(value * 100).toFixed(0)} %`;
}
