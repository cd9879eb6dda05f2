import type { LimitKeys } from '../../core/keys.js';
import type { ResolvedHandlerLimits } from '../../core/options/handler.options.js';
import { BROKER_DEFAULTS } from '../../core/options/broker-defaults.js';
import type { RedisClient } from '../../core/redis/redis-connection.factory.js';
import type { MessageSource } from '../message-source.js';
import { KeyRateGate } from './key-rate.gate.js';
import { LeaseSemaphore } from './lease-semaphore.js';
import { LimitedSource, type LimitWait } from './limited.source.js';
import { RateWindow } from './rate-window.js';

/** What one consumer's limits are built from. */
export interface ConsumerLimitsDeps {
  command: RedisClient;
  keys: LimitKeys;
  limits: ResolvedHandlerLimits;
  blockTimeoutMs: number;
  /** Opens a blocking connection (for waiting on lease releases) and its closer. */
  openBlocking: () => { client: RedisClient; close: () => Promise<void> };
  limited: (limit: LimitWait, waitMs: number) => void;
}

/** Whether a handler has any cross-process limit. */
export function hasLimits(limits: ResolvedHandlerLimits): boolean {
  return limits.rateLimit !== undefined || limits.globalConcurrency > 0;
}

/**
 * `inner` behind the handler's queue-wide (or group-wide) rate limit and
 * `globalConcurrency`; the configured limits are recorded in Redis for the
 * status tools. A keyed rate limit is applied per message instead
 * ({@link keyRateGate}).
 */
export function limitSource<M extends object>(inner: MessageSource<M>, deps: ConsumerLimitsDeps): LimitedSource<M> {
  const { rateLimit, globalConcurrency, globalConcurrencyLeaseMs } = deps.limits;
  const blocking = globalConcurrency > 0 ? deps.openBlocking() : undefined;
  return new LimitedSource(inner, {
    rate: rateLimit && !rateLimit.key
      ? {
          window: new RateWindow(deps.command, rateLimit.max, rateLimit.perMs),
          key: deps.keys.rate,
          leadMs: BROKER_DEFAULTS.limits.rateLeadMs,
          lateMs: BROKER_DEFAULTS.limits.rateLateMs,
          // At most 5 % of the window: the handlers' clocks then see at most 5 % over max in a window.
          catchUpMs: Math.min(BROKER_DEFAULTS.limits.rateCatchUpMs, Math.floor(rateLimit.perMs / 20)),
        }
      : undefined,
    leases: blocking && {
      semaphore: new LeaseSemaphore(deps.command, deps.keys, globalConcurrency, globalConcurrencyLeaseMs),
      blocking: blocking.client,
      closeBlocking: blocking.close,
    },
    blockTimeoutMs: deps.blockTimeoutMs,
    reservationHoldMs: deps.blockTimeoutMs + BROKER_DEFAULTS.limits.reservationMarginMs,
    limited: deps.limited,
    record: { command: deps.command, key: deps.keys.config, fields: limitFields(deps.limits) },
  });
}

/** The per-key gate of a handler whose `rateLimit` has a `key`; undefined otherwise. */
export function keyRateGate(deps: Pick<ConsumerLimitsDeps, 'command' | 'keys' | 'limits'>): KeyRateGate | undefined {
  const { rateLimit } = deps.limits;
  if (!rateLimit?.key) return undefined;
  return new KeyRateGate(new RateWindow(deps.command, rateLimit.max, rateLimit.perMs), deps.keys, rateLimit.key);
}

/** The limits as the status tools read them back (`LimitKeys.config`). */
function limitFields(limits: ResolvedHandlerLimits): Record<string, string> {
  const fields: Record<string, string> = {};
  if (limits.rateLimit) {
    fields.rateMax = String(limits.rateLimit.max);
    fields.ratePerMs = String(limits.rateLimit.perMs);
    fields.rateKeyed = limits.rateLimit.key ? '1' : '0';
  }
  if (limits.globalConcurrency > 0) {
    fields.globalConcurrency = String(limits.globalConcurrency);
    fields.leaseMs = String(limits.globalConcurrencyLeaseMs);
  }
  return fields;
}
