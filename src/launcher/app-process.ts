import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One app of the sample, running as a child process. */
export interface AppProcess {
  name: string;
  child: ChildProcess;
  /** Resolves when the app printed its ready line; rejects when it exits first. */
  ready: Promise<void>;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
}

/**
 * Runs `entry` (a TypeScript main of apps/) with Node, SWC and the library's
 * sources, so `npm start` needs no build. Each output line is prefixed with
 * the app's name.
 */
export function spawnApp(name: string, entry: string, cwd: string, env: NodeJS.ProcessEnv, readyLine: string): AppProcess {
  const child = spawn(process.execPath, ['--conditions=nest-redis-broker-source', '--import', '@swc-node/register/esm-register', entry], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C in the terminal reaches only the launcher,
    // which sends each app exactly one SIGTERM (a second signal would cut
    // Nest's graceful shutdown short).
    detached: true,
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ready = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        process.stdout.write(`[${name}] ${line}\n`);
        if (line.includes(readyLine)) resolve();
      });
    }
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
  ready.catch(() => undefined);
  return { name, child, ready, exited };
}

/** SIGTERM (graceful shutdown), then SIGKILL after `graceMs` if the app is still running. */
export async function stopApp(app: AppProcess, graceMs: number): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  app.child.kill('SIGTERM');
  const timer = setTimeout(() => app.child.kill('SIGKILL'), graceMs);
  await app.exited;
  clearTimeout(timer);
}
