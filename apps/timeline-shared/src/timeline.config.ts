// Configuration of both apps from the environment, with the sample's defaults.

/** Settings shared by the API and the worker. */
export interface TimelineConfig {
  /** Redis URL. Env `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** HTTP port. Env `PORT`; default 3000 for the API, 3001 for the worker; 0 picks a free one. */
  port: number;
  /** HTTP interface. Env `HOST`, default `127.0.0.1` (set `0.0.0.0` in a container). */
  host: string;
  /** SQLite file of the API. Env `TIMELINE_DB`, default `.data/timeline.sqlite`. */
  databasePath: string;
  /** Most post ids per cached timeline. Env `TIMELINE_CACHE_MAX`, default 800. */
  cacheMaxLength: number;
  /** Lifetime of a cached timeline in seconds. Env `TIMELINE_CACHE_TTL`, default 3600. */
  cacheTtlSeconds: number;
  /** Shutdown deadline for running handlers. Env `SHUTDOWN_TIMEOUT_MS`, default 10000. */
  shutdownTimeoutMs: number;
  /** Broker consumer id of this process. Env `WORKER_ID`, default `hostname:pid:random`. */
  instanceId: string | undefined;
  /** A consumer silent this long is dead and its messages go back to the queue. Env `CONSUMER_TTL_MS`, default 30000. */
  consumerTtlMs: number;
  /** How often a consumer proves it is alive. Env `HEARTBEAT_MS`, default 5000. */
  heartbeatIntervalMs: number;
  /** Password of the worker's dashboard (user `admin`). Env `DASHBOARD_PASSWORD`; unset: the dashboard lets nobody in. */
  dashboardPassword: string | undefined;
}

export function configFromEnv(env: NodeJS.ProcessEnv, defaultPort: number): TimelineConfig {
  return {
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    port: integer(env, 'PORT', defaultPort),
    host: env.HOST ?? '127.0.0.1',
    databasePath: env.TIMELINE_DB ?? '.data/timeline.sqlite',
    cacheMaxLength: integer(env, 'TIMELINE_CACHE_MAX', 800),
    cacheTtlSeconds: integer(env, 'TIMELINE_CACHE_TTL', 3600),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000),
    instanceId: env.WORKER_ID === '' ? undefined : env.WORKER_ID,
    consumerTtlMs: integer(env, 'CONSUMER_TTL_MS', 30_000),
    heartbeatIntervalMs: integer(env, 'HEARTBEAT_MS', 5_000),
    dashboardPassword: env.DASHBOARD_PASSWORD === '' ? undefined : env.DASHBOARD_PASSWORD,
  };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0, got "${raw}"`);
  return value;
}
