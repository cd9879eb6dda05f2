// CI check of the Nest monorepo (nest-cli.json): `nest build redis-broker`,
// `nest build timeline-worker`, then `nest start timeline-api` against a
// throwaway redis-server until GET /health/ready answers ok, then SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, CheckFailed, freePort, onExit, run, runCheck, say, startRedis, tempDir } from './ci-support.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

/** Runs `nest build <project>` and checks that it wrote `output` (removed first, so a stale file cannot pass). */
function nestBuild(project, output) {
  rmSync(join(ROOT, output), { force: true });
  run('npx', ['--no', 'nest', 'build', project], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  check(existsSync(join(ROOT, output)), `nest build ${project} did not write ${output}`);
  say(`nest build ${project}: wrote ${output}`);
}

async function readiness(url) {
  try {
    const response = await fetch(url);
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

async function main() {
  say('== nest build (nest-cli.json)');
  nestBuild('redis-broker', 'libs/redis-broker/dist/index.js');
  nestBuild('timeline-worker', 'dist/apps/timeline-worker/src/main.js');

  say('== nest start timeline-api');
  const redis = await startRedis();
  const port = await freePort();
  const data = tempDir('nrb-nest-start');
  const apiMain = 'dist/apps/timeline-api/src/main.js';
  rmSync(join(ROOT, apiMain), { force: true });
  say(`$ npx --no nest start timeline-api    (REDIS_URL=${redis.url} PORT=${port})`);
  // Own process group: `nest start` runs the app as its child, and the group
  // signal reaches both.
  const child = spawn('npx', ['--no', 'nest', 'start', 'timeline-api'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redis.url, PORT: String(port), HOST: '127.0.0.1', TIMELINE_DB: join(data, 'timeline.sqlite') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output += chunk.toString()));
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  onExit(() => signalGroup('SIGKILL'));

  const url = `http://127.0.0.1:${port}/health/ready`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let ready;
  while (Date.now() < deadline && child.exitCode === null) {
    ready = await readiness(url);
    if (ready?.status === 200) break;
    await new Promise((done) => setTimeout(done, 250));
  }
  if (ready?.status !== 200) throw new CheckFailed(`GET ${url} never answered 200 (last: ${JSON.stringify(ready)})\n${output}`);
  check(existsSync(join(ROOT, apiMain)), `nest start did not build ${apiMain}`);
  check(output.includes(`timeline-api listening on http://127.0.0.1:${port}`), `the app's ready line is missing:\n${output}`);
  check(JSON.parse(ready.body).status === 'ok', `GET ${url}: ${ready.body}`);
  say(`GET ${url} -> 200 ${ready.body}`);

  signalGroup('SIGTERM');
  const stopped = await Promise.race([exited, new Promise((done) => setTimeout(() => done('timeout'), STOP_TIMEOUT_MS))]);
  check(stopped !== 'timeout', `nest start timeline-api did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
  say(`SIGTERM: nest start timeline-api stopped (${stopped})`);
}

runCheck('nest-cli check', main);
