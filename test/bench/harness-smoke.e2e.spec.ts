// The benchmark harness (bench/) must not rot: run it with a tiny load and
// check that it finishes and reports every system. No timing is asserted;
// speed is what `npm run bench` reports.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nrb-bench-smoke-'));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=nest-redis-broker-source', '--import', '@swc-node/register/esm-register', 'bench/run.ts', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the benchmark harness', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario with every system on a tiny load and prints the table and the JSON', async () => {
    const json = join(dir, 'smoke.json');
    const { code, stdout, stderr } = await runBench([
      '--n', '200', '--warmup', '50', '--reps', '1', '--rate', '200', '--latency-seconds', '1', '--backlog', '300', '--io-n', '200', '--json', json,
    ]);
    expect(code, stderr).toBe(0);
    for (const label of [
      'nest-redis-broker list, reliable', 'nest-redis-broker list, fast', 'nest-redis-broker stream group',
      'nest-redis-broker @OnChannel', 'BullMQ (c1)', 'BullMQ (c50)', 'raw ioredis LPUSH + BLMPOP', 'raw ioredis XADD',
      'raw ioredis bare subscriber', 'nest-redis-broker list, reliable, batch 100', 'nest-redis-broker stream group, batch 100',
      'Batch list handler, cold processes', 'bare Node loops', 'raw ioredis LPUSH + BLMPOP COUNT 100, enveloped messages',
      "### The envelope's cost on the list scenario", 'reliable list against the raw loop, both enveloped', '### Bars',
    ]) expect(stdout).toContain(label);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      results: { error?: string; handled: number; expected: number; cpuUsPerMessage?: { consumer: number; producer?: number; redis: number } }[];
    };
    expect(report.results.length).toBeGreaterThan(0);
    for (const result of report.results) {
      expect(result.error).toBeUndefined();
      // The warm-up's 50 messages are not counted in the measured run.
      expect(result.handled).toBe(result.expected);
      expect(result.cpuUsPerMessage?.consumer).toBeGreaterThan(0);
    }
  }, 900_000); // 30-odd trials, each a few processes booting on a loaded 2-core machine
});
