import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A TypeScript program of `test/fixtures` running as its own process. */
export interface FixtureProcess {
  child: ChildProcess;
  /** Resolves when the process printed `ready` (e.g. `worker-ready`); rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<number | string>;
  output(): string;
}

/**
 * Runs `test/fixtures/<name>.ts` under Node with SWC (decorator metadata) and
 * the library's TypeScript sources (`--conditions=nest-redis-broker-source`), as a separate
 * process that tests may SIGKILL.
 */
export function spawnFixture(name: string, env: Record<string, string>, readyLine = 'worker-ready'): FixtureProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=nest-redis-broker-source', '--import', '@swc-node/register/esm-register', `test/fixtures/${name}.ts`],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (out.includes(readyLine)) resolve();
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => reject(new Error(`fixture ${name} exited (${code}) before ready:\n${out}`)));
  });
  // Tests that never wait for `ready` (a worker expected to crash) must not see an unhandled rejection.
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => out };
}
