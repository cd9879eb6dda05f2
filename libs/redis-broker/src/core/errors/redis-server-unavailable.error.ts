/**
 * Thrown by the testing helpers and the launcher when `redis-server` cannot be
 * started (missing binary, or it exited before accepting connections).
 * @publicApi
 */
export class RedisServerUnavailableError extends Error {
  override readonly name = 'RedisServerUnavailableError';
}
