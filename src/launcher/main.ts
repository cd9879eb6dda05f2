// `npm start`: the timeline sample on one machine. Starts (or uses, with
// REDIS_URL) Redis, runs the API and the worker as separate processes, prints
// their URLs, and stops everything on Ctrl-C (SIGINT) or SIGTERM.
// Env: REDIS_URL, PORT (API, default 3000), WORKER_PORT (default 3001),
// DASHBOARD_PASSWORD (the worker's dashboard, user admin; default: a random one, printed),
// TIMELINE_DB (default: a fresh database in a temporary directory, removed on
// stop, so every run starts empty like the embedded Redis).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnApp, stopApp, type AppProcess } from './app-process.js';
import { resolveRedis, type RedisTarget } from './embedded-redis.js';
import { portOrFree } from './ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = process.env;
/** How long each app may take to drain before it is killed. */
const STOP_GRACE_MS = 15_000;

let redis: RedisTarget;
try {
  redis = await resolveRedis(env);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
const apiPort = await portOrFree(Number(env.PORT ?? 3000));
const workerPort = await portOrFree(Number(env.WORKER_PORT ?? 3001));
const scratch = env.TIMELINE_DB ? undefined : mkdtempSync(join(tmpdir(), 'timeline-sample-'));
const shared = { REDIS_URL: redis.url, TIMELINE_DB: env.TIMELINE_DB ?? join(scratch!, 'timeline.sqlite') };
const dashboardPassword = env.DASHBOARD_PASSWORD || randomBytes(9).toString('base64url');
const apps: AppProcess[] = [
  spawnApp('worker', 'apps/timeline-worker/src/main.ts', root, { ...shared, PORT: String(workerPort), DASHBOARD_PASSWORD: dashboardPassword }, 'timeline-worker ready'),
  spawnApp('api', 'apps/timeline-api/src/main.ts', root, { ...shared, PORT: String(apiPort) }, 'timeline-api listening'),
];

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('Stopping the sample...');
    await Promise.all(apps.map((app) => stopApp(app, STOP_GRACE_MS)));
    await redis.embedded?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));
process.once('SIGHUP', () => void stopAll(0));
for (const app of apps) {
  void app.exited.then((code) => {
    if (stopping) return;
    console.error(`${app.name} exited unexpectedly (${code}); stopping the sample.`);
    void stopAll(1);
  });
}

try {
  await Promise.all(apps.map((app) => app.ready));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  await stopAll(1);
}
console.log(
  [
    '',
    'Timeline sample is running:',
    `  API            http://127.0.0.1:${apiPort}   (health: /health/ready, metrics: /metrics)`,
    `  worker         http://127.0.0.1:${workerPort}   (health: /health/ready, metrics: /metrics)`,
    `  dashboard      http://127.0.0.1:${workerPort}/dashboard   (user admin, password ${env.DASHBOARD_PASSWORD ? '$DASHBOARD_PASSWORD' : dashboardPassword})`,
    `  Redis          ${redis.embedded ? `${redis.url} (embedded, temporary)` : redis.url}`,
    `  database       ${shared.TIMELINE_DB}${scratch ? ' (temporary; set TIMELINE_DB to keep it)' : ''}`,
    'Try the walk-through in README.md ("The sample"). Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);
