import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function json(url: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  return response.json();
}

/** Whether `pid` runs (a zombie has ended), and its command line. */
function commandOf(pid: number): string | undefined {
  try {
    if (readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] === 'Z') return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * The running processes whose environment holds `marker` (the launcher and the
 * apps inherit it; whatever their parent is by then), plus those whose pid is
 * in `pidFile` (redis-server rewrites its environment for its process title).
 */
function processesStarted(marker: string, pidFile: string): { pid: number; command: string }[] {
  const marked = readdirSync('/proc').filter((entry) => {
    try {
      return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker);
    } catch {
      // The process ended while we looked, or is not ours to read.
      return false;
    }
  });
  const recorded = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').filter(Boolean) : [];
  return [...new Set([...marked, ...recorded].map(Number))].flatMap((pid) => {
    const command = commandOf(pid);
    return command === undefined ? [] : [{ pid, command }];
  });
}

/** Starts the launcher with the same command as the "start" script; `out` collects stdout and stderr. */
function startLauncher(env: NodeJS.ProcessEnv): { out: () => string; exited: Promise<number | null>; kill: (signal: NodeJS.Signals) => void } {
  const launcher = spawn(process.execPath, ['--conditions=nest-redis-broker-source', '--import', '@swc-node/register/esm-register', 'src/launcher/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  launcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  launcher.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  return { out: () => out, exited, kill: (signal) => launcher.kill(signal) };
}

describe('npm start (the launcher)', () => {
  it('boots the sample on an embedded Redis, serves the walk-through, and stops everything on Ctrl-C', async () => {
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(apiPort), WORKER_PORT: String(workerPort) };
    delete env.REDIS_URL;
    delete env.TIMELINE_DB;
    // The same command as the "start" script.
    const launcher = spawn(process.execPath, ['--conditions=nest-redis-broker-source', '--import', '@swc-node/register/esm-register', 'src/launcher/main.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let redisUrl: string | undefined;
    launcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    launcher.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('Timeline sample is running'), { timeoutMs: 60_000, description: `the launcher to start:\n${out}` });
      redisUrl = /Redis\s+(redis:\/\/\S+) \(embedded/.exec(out)?.[1];
      expect(redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const api = `http://127.0.0.1:${apiPort}`;
      const alice = (await json(`${api}/users`, { method: 'POST', body: '{"name":"alice"}' })) as { id: number };
      const bob = (await json(`${api}/users`, { method: 'POST', body: '{"name":"bob"}' })) as { id: number };
      await json(`${api}/users/${alice.id}/follows/${bob.id}`, { method: 'POST' });
      expect(await json(`${api}/users/${alice.id}/timeline`)).toMatchObject({ source: 'database', posts: [] });
      await json(`${api}/users/${bob.id}/posts`, { method: 'POST', body: '{"body":"Hello from Bob"}' });
      await waitFor(
        async () => ((await json(`${api}/users/${alice.id}/timeline`)) as { posts: unknown[] }).posts.length === 1,
        { description: 'the worker to fan the post out' },
      );
      expect(await json(`${api}/users/${alice.id}/timeline`)).toMatchObject({ source: 'cache', posts: [{ body: 'Hello from Bob' }] });
      expect(await json(`http://127.0.0.1:${workerPort}/health/ready`)).toMatchObject({ status: 'ok' });
    } finally {
      launcher.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('Stopping the sample');
    // The embedded Redis went with it.
    const probe = new Redis(redisUrl!, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await expect(probe.connect()).rejects.toThrow();
    probe.disconnect();
  });

  it('stops the embedded redis-server and the other app when an app fails at boot', async () => {
    const marker = `NRB_LAUNCHER_TEST=${randomUUID()}`;
    const scratch = mkdtempSync(join(tmpdir(), 'launcher-fail-'));
    const pidFile = join(scratch, 'redis.pids');
    // The launcher's redis-server, through a wrapper that records its pid.
    const redisBin = join(scratch, 'redis-server');
    writeFileSync(redisBin, `#!/bin/sh\necho $$ >> '${pidFile}'\nexec redis-server "$@"\n`, { mode: 0o755 });
    // The API's database lives under a regular file: its mkdir fails and the API exits before it is ready.
    writeFileSync(join(scratch, 'not-a-directory'), '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [marker.split('=')[0]]: marker.split('=')[1],
      REDIS_SERVER_BIN: redisBin,
      PORT: String(await freePort()),
      WORKER_PORT: String(await freePort()),
      TIMELINE_DB: join(scratch, 'not-a-directory', 'timeline.sqlite'),
    };
    delete env.REDIS_URL;
    const launcher = startLauncher(env);
    let ended = false;
    void launcher.exited.then(() => (ended = true));
    // Every command line each process showed: a process shows its parent's before its exec and an empty
    // one as a zombie (ended, not yet reaped), so the last look alone can miss what it ran.
    const seen = new Set<string>();
    try {
      await waitFor(
        () => {
          for (const { command } of processesStarted(marker, pidFile)) if (command !== '') seen.add(command);
          return ended;
        },
        { timeoutMs: 240_000, intervalMs: 50, description: 'the launcher to exit' },
      );
      expect(await launcher.exited).toBe(1);
      expect(launcher.out()).toMatch(/api exited (unexpectedly )?\(1\)/);
      expect(launcher.out()).toContain('Stopping the sample');
      // The launcher waited for what it stopped: nothing it started outlives it.
      expect(processesStarted(marker, pidFile)).toEqual([]);
    } finally {
      launcher.kill('SIGKILL');
      for (const { pid } of processesStarted(marker, pidFile)) process.kill(pid, 'SIGKILL');
      rmSync(scratch, { recursive: true, force: true });
    }
    // It had started all three.
    const commands = [...seen];
    for (const started of [/^redis-server /, /timeline-worker\/src\/main\.ts/, /timeline-api\/src\/main\.ts/]) {
      expect(commands).toEqual(expect.arrayContaining([expect.stringMatching(started)]));
    }
  }, 300_000);

  it('uses the Redis of REDIS_URL, prints it without its password, and leaves that Redis running', async () => {
    const secret = 'launcher-Sup3rSecret';
    const redis = await startRedisServer({ args: ['--user', 'app', 'on', `>${secret}`, '~*', '&*', '+@all'] });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: `redis://app:${secret}@127.0.0.1:${redis.port}`,
      PORT: String(await freePort()),
      WORKER_PORT: String(await freePort()),
    };
    delete env.TIMELINE_DB;
    const launcher = startLauncher(env);
    try {
      await waitFor(() => launcher.out().includes('Timeline sample is running'), { timeoutMs: 240_000, description: 'the launcher to start' });
      expect(launcher.out()).toContain(`redis://app:***@127.0.0.1:${redis.port}\n`);
    } finally {
      launcher.kill('SIGINT');
    }
    try {
      expect(await launcher.exited).toBe(0);
      // Neither the launcher nor the apps' logs (their connection targets included) printed it.
      expect(launcher.out()).not.toContain(secret);
      const probe = new Redis(redis.url, { username: 'app', password: secret });
      expect(await probe.ping()).toBe('PONG');
      probe.disconnect();
    } finally {
      await redis.stop();
    }
  }, 300_000);
});
