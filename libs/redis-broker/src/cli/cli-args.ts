import { parseArgs } from 'node:util';
import { UsageError } from './cli-errors.js';

/** Options every command accepts (each command reads the ones it needs). */
export interface CliOptions {
  url: string;
  /** Where `url` came from, for error messages: `--url`, `REDIS_URL` or the default. */
  urlSource: '--url' | 'REDIS_URL' | 'default';
  prefix: string;
  json: boolean;
  help: boolean;
  group?: string;
  all: boolean;
  yes: boolean;
  channel: boolean;
  sharded: boolean;
  count?: number;
  from?: string;
  limit: number;
  delay?: number;
}

/** A parsed command line: the command words and arguments, and the options. */
export interface CliCommand {
  positionals: string[];
  options: CliOptions;
}

export const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_LIMIT = 50;

export const USAGE = `Usage: nest-redis-broker <command> [options]

Commands:
  status [queue|stream ...]              every queue, stream group and channel with counts
                                         (name queues only plain clients wrote to)
  dlq list <queue|stream> [--group g]    dead letters, newest first (--limit n, default 50)
  dlq show <queue|stream> <id> [--group g]
  dlq requeue <queue|stream> <id>|--all [--group g]
  dlq purge <queue|stream> --yes [--group g]
  enqueue <queue> <json> [--delay ms]    push one JSON message
  append <stream> field=value ...        add one stream entry
  publish <channel> <message> [--sharded]
                                         publish one message; prints the receiver count
  tail <stream|channel> [--channel|--sharded] [--from id] [--count n]
                                         print new entries or messages until Ctrl-C
  schedules                              every schedule: target, timing, next and last run, runs

Options:
  --url <redis-url>     default $REDIS_URL, else ${DEFAULT_URL}; a password is
                        safer in REDIS_URL (argv shows in ps)
  --prefix <prefix>     the broker's keyPrefix; default $BROKER_KEY_PREFIX, else none
  --json                machine-readable output (one JSON document; tail: one per line)
  -h, --help            this text

Exit codes: 0 ok, 1 failure (e.g. Redis unreachable), 2 usage error, 3 not found.`;

/** Parses argv (without node and script); throws `UsageError` for unknown options or bad values. */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        prefix: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        group: { type: 'string' },
        all: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        channel: { type: 'boolean', default: false },
        sharded: { type: 'boolean', default: false },
        count: { type: 'string' },
        from: { type: 'string' },
        limit: { type: 'string' },
        delay: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  // Precedence: --url, then REDIS_URL (set and not empty), then the default.
  const urlSource = v.url !== undefined ? '--url' : env.REDIS_URL ? 'REDIS_URL' : 'default';
  return {
    positionals: parsed.positionals,
    options: {
      url: v.url ?? (env.REDIS_URL || DEFAULT_URL),
      urlSource,
      prefix: v.prefix ?? env.BROKER_KEY_PREFIX ?? '',
      json: v.json,
      help: v.help,
      group: v.group,
      all: v.all,
      yes: v.yes,
      channel: v.channel,
      sharded: v.sharded,
      count: v.count === undefined ? undefined : wholeNumber('--count', v.count, 1),
      from: v.from,
      limit: v.limit === undefined ? DEFAULT_LIMIT : wholeNumber('--limit', v.limit, 1),
      delay: v.delay === undefined ? undefined : wholeNumber('--delay', v.delay, 0),
    },
  };
}

function wholeNumber(option: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || !Number.isSafeInteger(n)) throw new UsageError(`${option} needs a whole number ≥ ${min}, got "${raw}"`);
  return n;
}

/** The positional at `index`, or a usage error naming what is missing. */
export function required(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}
