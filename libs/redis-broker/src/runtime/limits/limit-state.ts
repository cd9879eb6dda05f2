import type { LimitKeys } from '../../core/keys.js';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';

/**
 * The cross-process limits of one queue or stream group as Redis holds them:
 * what its consumers configured (the last one to start wrote it) and how
 * full each limit is now.
 * @publicApi
 */
export interface LimitState {
  rateLimit?: {
    max: number;
    perMs: number;
    /** Limited per `rateLimit.key`: the window counts are per key, not shown. */
    keyed: boolean;
    /** Starts counted in the current window (reservations of fetches under way included); absent when keyed. */
    inWindow?: number;
  };
  globalConcurrency?: {
    limit: number;
    leaseMs: number;
    /** Live leases: handler runs under way across all processes (and consumers blocked for their next message). */
    held: number;
  };
}

/** Reads one queue's or group's limit state; undefined when no consumer of it has a limit. */
export async function readLimitState(client: RedisClient, keys: LimitKeys): Promise<LimitState | undefined> {
  const config = await client.hgetall(keys.config);
  if (Object.keys(config).length === 0) return undefined;
  const [seconds, micros] = await client.time();
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const state: LimitState = {};
  if (config.rateMax !== undefined) {
    const perMs = Number(config.ratePerMs);
    const keyed = config.rateKeyed === '1';
    state.rateLimit = { max: Number(config.rateMax), perMs, keyed };
    if (!keyed) state.rateLimit.inWindow = await client.zcount(keys.rate, `(${now - perMs}`, '+inf');
  }
  if (config.globalConcurrency !== undefined) {
    state.globalConcurrency = {
      limit: Number(config.globalConcurrency),
      leaseMs: Number(config.leaseMs),
      held: await client.zcount(keys.leases, `(${now}`, '+inf'),
    };
  }
  return state;
}

/** One line for tables: `100/1000 ms (37 in window), 2/2 running`. */
export function limitStateText(state: LimitState | undefined): string {
  if (!state) return '';
  const parts: string[] = [];
  const { rateLimit, globalConcurrency } = state;
  if (rateLimit) {
    const rate = `${rateLimit.max}/${rateLimit.perMs} ms`;
    parts.push(rateLimit.keyed ? `${rate} per key` : `${rate} (${rateLimit.inWindow ?? 0} in window)`);
  }
  if (globalConcurrency) parts.push(`${globalConcurrency.held}/${globalConcurrency.limit} running`);
  return parts.join(', ');
}
