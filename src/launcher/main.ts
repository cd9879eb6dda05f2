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
import { redactUrl } from 'nest-redis-broker';
import { spawnApp, stopApp, type AppProcess } from './app-process.js';
import { resolveRedis } from './embedded-redis.js';
import { LaunchTeardown } from './launch-teardown.js';
import { portOrFree } from './ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = process.env;
/** How long each app may take to drain before it is killed. */
const STOP_GRACE_MS = 15_000;

// The embedded Redis and the apps run in process groups of their own (so a
// Ctrl-C reaches only the launcher): nothing stops them but this teardown,
// so every way out of the launcher goes through it.
const teardown = new LaunchTeardown();
const textOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function stopAll(code: number): Promise<never> {
  if (!teardown.begun) console.log('Stopping the sample...');
  await teardown.stop((error) => console.error(`While stopping: ${textOf(error)}`));
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));
process.on('uncaughtException', (error) => {
  console.error(error);
  void stopAll(1);
});
process.on('unhandledRejection', (error) => {
  console.error(error);
  void stopAll(1);
});

async function start(): Promise<void> {
  const redisStart = resolveRedis(env);
  teardown.add(async () => (await redisStart.catch(() => undefined))?.embedded?.stop());
  const redis = await redisStart;
  const apiPort = await portOrFree(Number(env.PORT ?? 3000));
  const workerPort = await portOrFree(Number(env.WORKER_PORT ?? 3001));
  if (teardown.begun) return;
  const scratch = env.TIMELINE_DB ? undefined : mkdtempSync(join(tmpdir(), 'timeline-sample-'));
  if (scratch) teardown.add(() => rmSync(scratch, { recursive: true, force: true }));
  const shared = { REDIS_URL: redis.url, TIMELINE_DB: env.TIMELINE_DB ?? join(scratch!, 'timeline.sqlite') };
  const dashboardPassword = env.DASHBOARD_PASSWORD || randomBytes(9).toString('base64url');
  const apps: AppProcess[] = [];
  teardown.add(async () => {
    await Promise.all(apps.map((app) => stopApp(app, STOP_GRACE_MS)));
  });
  apps.push(spawnApp('worker', 'apps/timeline-worker/src/main.ts', root, { ...shared, PORT: String(workerPort), DASHBOARD_PASSWORD: dashboardPassword }, 'timeline-worker ready'));
  apps.push(spawnApp('api', 'apps/timeline-api/src/main.ts', root, { ...shared, PORT: String(apiPort) }, 'timeline-api listening'));
  for (const app of apps) {
    void app.exited.then((code) => {
      if (teardown.begun) return;
      console.error(`${app.name} exited unexpectedly (${code}); stopping the sample.`);
      void stopAll(1);
    });
  }
  await Promise.all(apps.map((app) => app.ready));
  if (teardown.begun) return;
  console.log(
    [
      '',
      'Timeline sample is running:',
      `  API            http://127.0.0.1:${apiPort}   (health: /health/ready, metrics: /metrics)`,
      `  worker         http://127.0.0.1:${workerPort}   (health: /health/ready, metrics: /metrics)`,
      `  dashboard      http://127.0.0.1:${workerPort}/dashboard   (user admin, password ${env.DASHBOARD_PASSWORD ? '$DASHBOARD_PASSWORD' : dashboardPassword})`,
      `  Redis          ${redactUrl(redis.url)}${redis.embedded ? ' (embedded, temporary)' : ''}`,
      `  database       ${shared.TIMELINE_DB}${scratch ? ' (temporary; set TIMELINE_DB to keep it)' : ''}`,
      'Try the walk-through in docs/sample.md. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

try {
  await start();
} catch (error) {
  // An app that exits before it is ready was already reported by its exit handler.
  if (!teardown.begun) console.error(textOf(error));
  await stopAll(1);
}
