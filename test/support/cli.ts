import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = 'libs/redis-broker/dist/cli/main.js';
const run = promisify(execFile);

/** Builds the library, the CLI with it, and copies the library's assets, as `npm run build` does. */
export async function buildCli(): Promise<void> {
  await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'libs/redis-broker/tsconfig.json'], { cwd: root });
  await run(process.execPath, ['libs/redis-broker/copy-assets.js'], { cwd: root });
}

/** What one run of the built CLI printed, and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built binary with `args` and waits for it to exit. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Starts the built binary without waiting (for `tail`). */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
