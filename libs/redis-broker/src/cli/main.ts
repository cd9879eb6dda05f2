#!/usr/bin/env node
import { InvalidBrokerOptionsError } from '../index.js';
import { parseCommandLine, USAGE, type CliCommand } from './cli-args.js';
import { CliConnections } from './cli-connection.js';
import { errorKindOf, EXIT, exitCodeOf, UsageError } from './cli-errors.js';
import { stdoutOutput, type CliOutput } from './cli-output.js';
import { runDlq } from './dlq.command.js';
import { runAppend, runEnqueue, runPublish } from './produce.command.js';
import { runSchedules } from './schedules.command.js';
import { runStatus } from './status.command.js';
import { runTail } from './tail.command.js';

type Runner = (command: CliCommand, connections: CliConnections, out: CliOutput, signal: AbortSignal) => Promise<void>;

const COMMANDS: Record<string, Runner> = {
  status: runStatus,
  dlq: runDlq,
  enqueue: runEnqueue,
  append: runAppend,
  publish: runPublish,
  tail: runTail,
  schedules: runSchedules,
};

/** Runs one command line; resolves to the process exit code. */
async function main(argv: string[]): Promise<number> {
  let connections: CliConnections | undefined;
  // Known before parsing, so a usage error is JSON too when --json was asked for.
  let json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  // The reader went away (`... | head`): stop like Ctrl-C instead of crashing on EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stop.abort();
  });
  try {
    const command = parseCommandLine(argv, process.env);
    json = command.options.json;
    const name = command.positionals[0];
    if (command.options.help || name === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    if (name === undefined) throw new UsageError('missing command');
    const run = COMMANDS[name];
    if (!run) throw new UsageError(`unknown command "${name}"`);
    connections = new CliConnections(command.options.url, command.options.urlSource, command.options.prefix);
    await run(command, connections, stdoutOutput(json), stop.signal);
    return EXIT.ok;
  } catch (raw) {
    // A queue, stream or group name Redis keys cannot hold is a usage mistake.
    const error = raw instanceof InvalidBrokerOptionsError ? new UsageError(raw.message) : raw;
    const message = error instanceof Error ? error.message : String(error);
    const out = stdoutOutput(json);
    // --json: a script reads one JSON object on stdout, failure or not; the person gets the text on stderr.
    if (json) out.data({ error: { kind: errorKindOf(error), message, exitCode: exitCodeOf(error) } });
    out.note(`nest-redis-broker: ${message}`);
    if (error instanceof UsageError) out.note('Run "nest-redis-broker --help" for usage.');
    return exitCodeOf(error);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await connections?.closeAll();
  }
}

process.exitCode = await main(process.argv.slice(2));
