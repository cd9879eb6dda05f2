import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function json(url: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  return response.json();
}

describe('npm start (the launcher)', () => {
  it('boots the sample on an embedded Redis, serves the walk-through, and stops everything on Ctrl-C', async () => {
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(apiPort), WORKER_PORT: String(workerPort) };
    delete env.REDIS_URL;
    delete env.TIMELINE_DB;
    // The same command as the "start" script.
    const launcher = spawn(process.execPath, ['--conditions=source', '--import', '@swc-node/register/esm-register', 'src/launcher/main.ts'], {
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
});
