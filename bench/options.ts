/** What `npm run bench -- <flags>` may change. */
export interface BenchOptions {
  /** Messages per throughput run. */
  count: number;
  reps: number;
  /** Paced scenario: msg/s and duration. */
  rate: number;
  latencySeconds: number;
  /** Messages in the backlog scenario, and its repetitions. */
  backlog: number;
  backlogReps: number;
  /** Repetitions of the scaling scenario (1, 2 and 4 workers). */
  scalingReps: number;
  /** Messages the I/O-bound scenario prefills before its cold consumers start. */
  ioCount: number;
  /** Only these scenarios / systems (empty: all). */
  scenarios: string[];
  systems: string[];
  /** Write the JSON here instead of .bench-out/latest.json. */
  json?: string;
  /** Consumers run with `node --cpu-prof` (profiles in .bench-out/profiles). */
  cpuProf: boolean;
  /** Logs Redis commands per message after each run. */
  verbose: boolean;
  /**
   * Messages each full-speed run sends and handles first, untimed (0: none;
   * default: as many as the run). V8 optimizes a consumer's per-batch code
   * only after many batches; the measured run is the steady state.
   */
  warmup: number;
}

export const FULL: BenchOptions = {
  count: 100_000, reps: 3, rate: 5_000, latencySeconds: 10, backlog: 1_000_000, backlogReps: 1, scalingReps: 1, ioCount: 30_000,
  scenarios: [], systems: [], cpuProf: false, verbose: false, warmup: -1,
};

/** `--quick`: the same scenarios, small. */
const QUICK: Partial<BenchOptions> = { count: 20_000, reps: 1, latencySeconds: 3, backlog: 100_000, ioCount: 10_000 };

const USAGE = `npm run bench -- [--quick] [--n 100000] [--reps 3] [--rate 5000] [--latency-seconds 10]
  [--backlog 1000000] [--backlog-reps 1] [--scaling-reps 1] [--io-n 30000]
  [--only list,batch-list-cold,batch-list,stream,batch-stream-cold,batch-stream,pubsub,latency,latency-cold,scaling,backlog,tracing,io]
  [--systems nrb-reliable,bullmq-c50,...] [--warmup N (default: --n)] [--json path] [--cpu-prof] [--verbose]`;

export function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = { ...FULL };
  if (argv.includes('--quick')) Object.assign(options, QUICK);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a whole number ≥ 1\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--quick': break;
      case '--n': options.count = int(); break;
      case '--reps': options.reps = int(); break;
      case '--rate': options.rate = int(); break;
      case '--latency-seconds': options.latencySeconds = int(); break;
      case '--backlog': options.backlog = int(); break;
      case '--backlog-reps': options.backlogReps = int(); break;
      case '--scaling-reps': options.scalingReps = int(); break;
      case '--io-n': options.ioCount = int(); break;
      case '--only': options.scenarios = value().split(','); break;
      case '--systems': options.systems = value().split(','); break;
      case '--json': options.json = value(); break;
      case '--cpu-prof': options.cpuProf = true; break;
      case '--verbose': options.verbose = true; break;
      case '--warmup': {
        const v = Number(value());
        if (!Number.isInteger(v) || v < 0) throw new Error(`--warmup needs a whole number ≥ 0\n${USAGE}`);
        options.warmup = v;
        break;
      }
      default: throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  // Unset: a warm-up as large as the measured run.
  if (options.warmup < 0) options.warmup = options.count;
  return options;
}
