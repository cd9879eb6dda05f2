// What the CI check scripts (install-test.mjs, nest-cli-check.mjs) share:
// a transcript on stdout, commands that fail loudly, a throwaway redis-server
// on a free port, and cleanup that runs on every exit path (success, a failed
// check, an exception, Ctrl-C or SIGTERM from CI).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Cleanups, newest first; each runs once and must be synchronous (it also runs from the 'exit' event). */
const cleanups = [];

function runCleanups() {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    try {
      cleanup();
    } catch (error) {
      console.error(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

process.on('exit', runCleanups);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    process.exit(code);
  });
}

/** Registers `cleanup` to run when the script ends, however it ends. */
export function onExit(cleanup) {
  cleanups.push(cleanup);
}

/** A fresh directory under the OS temp dir, removed on exit. */
export function tempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One transcript line. */
export function say(text) {
  process.stdout.write(`${text}\n`);
}

/** Marks a check as failed: the script prints the reason and exits non-zero. */
export class CheckFailed extends Error {}

/** Throws `CheckFailed` with `reason` unless `condition` holds. */
export function check(condition, reason) {
  if (!condition) throw new CheckFailed(reason);
}

/**
 * Runs a command to completion and returns its stdout. The command line is
 * echoed; a non-zero exit throws with the command's stderr and stdout.
 */
export function run(command, args, options = {}) {
  say(`$ ${[command, ...args].join(' ')}${options.cwd ? `    (in ${options.cwd})` : ''}`);
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new CheckFailed(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** A TCP port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function pingOnce(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.once('close', () => resolve(reply.startsWith('+PONG')));
    socket.once('error', () => undefined);
  });
}

/**
 * Starts a throwaway `redis-server` on loopback (no persistence, its own
 * directory) and resolves once it answers PING. It is killed on exit.
 */
export async function startRedis(startTimeoutMs = 15_000) {
  const port = await freePort();
  const dir = tempDir('nrb-ci-redis');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  onExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const spawnFailed = new Promise((_, reject) => child.once('error', reject));
  const exitedEarly = new Promise((_, reject) => child.once('exit', (code) => reject(new CheckFailed(`redis-server exited (${code}) at start`))));
  const ready = (async () => {
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (await pingOnce(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new CheckFailed(`redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms`);
  })();
  await Promise.race([ready, spawnFailed, exitedEarly]);
  say(`redis-server listening on 127.0.0.1:${port}`);
  return { port, url: `redis://127.0.0.1:${port}` };
}

/**
 * Runs `main` and exits: 0 when it resolves, 1 with the reason when it throws.
 * Cleanups run in both cases.
 */
export function runCheck(name, main) {
  main().then(
    () => {
      say(`${name}: OK`);
      process.exit(0);
    },
    (error) => {
      console.error(`${name}: FAILED\n${error instanceof CheckFailed ? error.message : (error?.stack ?? String(error))}`);
      process.exit(1);
    },
  );
}
