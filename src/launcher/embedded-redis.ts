import { RedisServerUnavailableError } from 'nest-redis-broker';
import { startRedisServer, type RedisServerHandle } from 'nest-redis-broker/testing';

/** Where the sample's Redis is, and how to stop it if the launcher started it. */
export interface RedisTarget {
  url: string;
  /** `undefined` when REDIS_URL pointed at an existing Redis. */
  embedded: RedisServerHandle | undefined;
}

/**
 * `REDIS_URL` when set; otherwise a `redis-server` from PATH on a free port
 * of 127.0.0.1, in a temporary directory (no persistence: the cache is
 * rebuilt from the database). Fails with install instructions when
 * `redis-server` is missing.
 */
export async function resolveRedis(env: NodeJS.ProcessEnv): Promise<RedisTarget> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, embedded: undefined };
  try {
    const server = await startRedisServer({ binary: env.REDIS_SERVER_BIN ?? 'redis-server', detached: true });
    return { url: server.url, embedded: server };
  } catch (error) {
    if (error instanceof RedisServerUnavailableError) {
      throw new Error(`${error.message}\nThe sample needs Redis 7 or newer: either install redis-server (it is started for you on a free port), or run with REDIS_URL=redis://host:port.`);
    }
    throw error;
  }
}
