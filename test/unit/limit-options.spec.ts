import { describe, expect, it } from 'vitest';
import { InvalidBrokerOptionsError } from '../../libs/redis-broker/src/core/errors/invalid-broker-options.error.js';
import {
  resolveQueueHandlerOptions,
  resolveStreamConsumerOptions,
} from '../../libs/redis-broker/src/core/options/handler-options.validation.js';
import { BROKER_DEFAULTS } from '../../libs/redis-broker/src/core/options/broker-defaults.js';

// rateLimit / globalConcurrency: each bad value fails naming the option's full path and the value.

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection, got none');
}

const queue = (options: object) => () => resolveQueueHandlerOptions('Jobs@run', options, undefined);
const stream = (options: object) => () => resolveStreamConsumerOptions('Events@on', options, undefined);
const invalid = (path: string, shown: string) => `option "${path}": got ${shown};`;

describe('limit option rejection', () => {
  it.each([
    ['rateLimit not an object', queue({ rateLimit: 5 }), invalid('Jobs@run.rateLimit', '5')],
    ['rateLimit.max 0', queue({ rateLimit: { max: 0, perMs: 1000 } }), invalid('Jobs@run.rateLimit.max', '0')],
    ['rateLimit.max negative', queue({ rateLimit: { max: -1, perMs: 1000 } }), invalid('Jobs@run.rateLimit.max', '-1')],
    ['rateLimit.max fractional', queue({ rateLimit: { max: 1.5, perMs: 1000 } }), invalid('Jobs@run.rateLimit.max', '1.5')],
    ['rateLimit.max missing', queue({ rateLimit: { perMs: 1000 } }), invalid('Jobs@run.rateLimit.max', 'undefined')],
    ['rateLimit.perMs 0', queue({ rateLimit: { max: 10, perMs: 0 } }), invalid('Jobs@run.rateLimit.perMs', '0')],
    ['rateLimit.perMs missing', queue({ rateLimit: { max: 10 } }), invalid('Jobs@run.rateLimit.perMs', 'undefined')],
    ['rateLimit.key not a function', queue({ rateLimit: { max: 1, perMs: 10, key: 'tenant' } }), invalid('Jobs@run.rateLimit.key', '"tenant"')],
    ['rateLimit unknown field', queue({ rateLimit: { max: 1, perMs: 10, burst: 3 } }), 'Unknown nest-redis-broker option "Jobs@run.rateLimit.burst"'],
    ['globalConcurrency 0', queue({ globalConcurrency: 0 }), invalid('Jobs@run.globalConcurrency', '0')],
    ['globalConcurrency fractional', queue({ globalConcurrency: 1.5 }), invalid('Jobs@run.globalConcurrency', '1.5')],
    ['globalConcurrencyLeaseMs too short', queue({ globalConcurrency: 2, globalConcurrencyLeaseMs: 10 }), invalid('Jobs@run.globalConcurrencyLeaseMs', '10')],
    ['prefetch above concurrency with a limit', queue({ concurrency: 2, prefetch: 8, globalConcurrency: 1 }), invalid('Jobs@run.prefetch', '8')],
    ['stream rateLimit.max 0', stream({ rateLimit: { max: 0, perMs: 1000 } }), invalid('Events@on.rateLimit.max', '0')],
    ['stream globalConcurrency 0', stream({ globalConcurrency: 0 }), invalid('Events@on.globalConcurrency', '0')],
    ['stream rateLimit.key', stream({ rateLimit: { max: 1, perMs: 10, key: () => 'k' } }), invalid('Events@on.rateLimit.key', '"(function)"')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });
});

describe('limit option defaults', () => {
  it('leaves a handler unlimited unless asked', () => {
    const resolved = resolveQueueHandlerOptions('Jobs@run', {}, undefined);
    expect(resolved.rateLimit).toBeUndefined();
    expect(resolved.globalConcurrency).toBe(0);
    expect(resolved.globalConcurrencyLeaseMs).toBe(BROKER_DEFAULTS.limits.leaseMs);
  });

  it('keeps a valid rate limit and key function, and takes a lease time', () => {
    const key = (payload: unknown): string => String((payload as { tenant: string }).tenant);
    const resolved = resolveQueueHandlerOptions('Jobs@run', { rateLimit: { max: 100, perMs: 1000, key }, globalConcurrency: 3, globalConcurrencyLeaseMs: 5000 }, undefined);
    expect(resolved.rateLimit).toEqual({ max: 100, perMs: 1000, key });
    expect(resolved).toMatchObject({ globalConcurrency: 3, globalConcurrencyLeaseMs: 5000 });
  });

  it('inherits the module defaults\' limits (each queue is limited on its own)', () => {
    const base = resolveQueueHandlerOptions('queueDefaults', { rateLimit: { max: 10, perMs: 100 } }, undefined);
    const resolved = resolveQueueHandlerOptions('Jobs@run', { concurrency: 4 }, base);
    expect(resolved.rateLimit).toEqual({ max: 10, perMs: 100, key: undefined });
  });

  it('accepts a rate limit on a fast queue and on a stream group', () => {
    expect(resolveQueueHandlerOptions('Jobs@run', { mode: 'fast', rateLimit: { max: 1, perMs: 1 } }, undefined).rateLimit?.max).toBe(1);
    expect(resolveStreamConsumerOptions('Events@on', { rateLimit: { max: 1, perMs: 1 }, globalConcurrency: 1 }, undefined).globalConcurrency).toBe(1);
  });
});
