import type { ReplicationWait } from '../redis/replicated-writer.js';
import { BROKER_DEFAULTS } from './broker-defaults.js';
import type { ReplicationOptions } from './broker.options.js';
import { fail, int } from './option-checks.js';

/** Option names of `ReplicationOptions`, for callers that validate the rest of an options object. */
export const REPLICATION_KEYS = ['replicas', 'replicasTimeoutMs'] as const;

/** Most replicas a write may wait for; more is a typo, not a topology. */
const MAX_REPLICAS = 100;
/** Longest `WAIT`: `WAIT 0` would block forever, a long one holds the caller as long. */
const MAX_REPLICAS_TIMEOUT_MS = 600_000;

/**
 * Validates `replicas` / `replicasTimeoutMs` of one write (`path` is
 * `enqueue` or `append`); `undefined` when no `WAIT` is asked for.
 */
export function resolveReplication(path: string, options: ReplicationOptions): ReplicationWait | undefined {
  const replicas = int(`${path}.replicas`, options.replicas, 0, 0, MAX_REPLICAS);
  const timeoutMs = int(`${path}.replicasTimeoutMs`, options.replicasTimeoutMs, BROKER_DEFAULTS.replicasTimeoutMs, 1, MAX_REPLICAS_TIMEOUT_MS);
  if (options.replicasTimeoutMs !== undefined && options.replicas === undefined) {
    fail(`${path}.replicasTimeoutMs`, options.replicasTimeoutMs, 'a timeout only together with replicas (it is the WAIT timeout)');
  }
  return replicas === 0 ? undefined : { replicas, timeoutMs };
}
