// `npm run bench`: every scenario against one throwaway local redis-server
// (no persistence, loopback), systems interleaved within each repetition so
// they share the machine's noise; medians, ratios, a Markdown table on stdout
// and everything as JSON in .bench-out/. See bench/README.md for the knobs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from 'nest-redis-broker/testing';
import { ROOT } from './paths.js';
import { parseOptions, type BenchOptions } from './options.js';
import { checkBars, renderMarkdown, summarise } from './report.js';
import { IO_HANDLER_MS, SCALING_WORKERS, SCENARIOS, type Scenario } from './scenarios.js';
import { runTrial, type TrialEnvironment, type TrialResult, type TrialSpec } from './trial.js';

function trialsOf(scenario: Scenario, options: BenchOptions, rep: number): TrialSpec[] {
  const base = { scenario: scenario.id, count: options.count, rate: 0, durationMs: 0, prefill: 0, preload: 0, workers: 1, warmup: 0, handlerMs: 0 };
  // Rotating the order each repetition keeps any system from always going first.
  const systems = scenario.systems.filter((s) => options.systems.length === 0 || options.systems.includes(s));
  const rotated = systems.map((_, i) => systems[(i + rep) % systems.length]);
  switch (scenario.kind) {
    case 'throughput':
      return rotated.map((system) => ({ ...base, system, warmup: scenario.cold ? 0 : options.warmup }));
    case 'latency':
      return rotated.map((system) => ({
        ...base, system, count: 0, rate: options.rate, durationMs: options.latencySeconds * 1000, warmup: scenario.cold ? 0 : options.warmup,
      }));
    case 'backlog':
      return rotated.map((system) => ({ ...base, system, count: 0, prefill: options.backlog }));
    case 'scaling':
      return SCALING_WORKERS.flatMap((workers) => rotated.map((system) => ({ ...base, system, workers, warmup: options.warmup })));
    case 'io':
      return rotated.map((system) => ({ ...base, system, count: 0, preload: options.ioCount, handlerMs: IO_HANDLER_MS }));
  }
}

function versionOf(pkg: string): string {
  const file = pkg === 'nest-redis-broker' ? join(ROOT, 'libs/redis-broker/package.json') : join(ROOT, 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const redis = await startRedisServer({ args: ['--client-output-buffer-limit', 'pubsub', '0', '0', '0'] });
  const admin = new Redis(redis.url);
  const log = (line: string): void => console.error(line);
  const env: TrialEnvironment = {
    redisUrl: redis.url, admin, log,
    consumerExecArgv: options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(ROOT, '.bench-out/profiles')] : [],
  };
  const info = await admin.info('server');
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    'nest-redis-broker': versionOf('nest-redis-broker'), bullmq: versionOf('bullmq'), ioredis: versionOf('ioredis'),
  };
  const scenarios = SCENARIOS.filter((s) => options.scenarios.length === 0 || options.scenarios.includes(s.id));
  const results: TrialResult[] = [];
  const started = Date.now();
  try {
    for (const scenario of scenarios) {
      const reps = scenario.kind === 'backlog' ? options.backlogReps : scenario.kind === 'scaling' ? options.scalingReps : options.reps;
      for (let rep = 0; rep < reps; rep++) {
        for (const spec of trialsOf(scenario, options, rep)) {
          const result = await runTrial(env, spec);
          results.push(result);
          const extra = result.p99Ms !== undefined ? ` p50 ${result.p50Ms?.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms` : '';
          log(`${scenario.id} #${rep + 1} ${spec.system} x${spec.workers}: ${Math.round(result.throughput)} msg/s, ${result.handled}/${result.expected}${extra}, rss ${Math.round(result.maxRssBytes / 2 ** 20)} MB`);
          if (options.verbose) log(`  commands per message: ${JSON.stringify(result.commandsPerMessage)}`);
        }
      }
    }
  } finally {
    admin.disconnect();
    await redis.stop();
  }
  const summaries = summarise(results);
  const bars = checkBars(summaries);
  const markdown = renderMarkdown(summaries, bars);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const header = `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB; Node ${machine.node}, Redis ${machine.redis}, `
    + `nest-redis-broker ${machine['nest-redis-broker']}, BullMQ ${machine.bullmq}, ioredis ${machine.ioredis}. `
    + `${options.count.toLocaleString('en-US')} messages per throughput run after ${options.warmup.toLocaleString('en-US')} untimed warm-up messages, `
    + `${options.reps} repetition(s), medians; the I/O-bound run prefills ${options.ioCount.toLocaleString('en-US')} messages for cold consumers. `
    + `Took ${Math.round((Date.now() - started) / 1000)} s.`;
  console.log(`${header}\n\n${markdown}`);
  mkdirSync(join(ROOT, '.bench-out'), { recursive: true });
  const json = JSON.stringify({ command, machine, options, startedAt: new Date(started).toISOString(), summaries, bars, results }, null, 2);
  const out = options.json ?? join(ROOT, '.bench-out/latest.json');
  writeFileSync(out, json);
  writeFileSync(join(ROOT, '.bench-out/latest.md'), `${header}\n\n${markdown}\n`);
  log(`JSON: ${out}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
