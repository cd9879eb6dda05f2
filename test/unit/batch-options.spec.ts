import { describe, expect, it } from 'vitest';
import { InvalidBrokerOptionsError } from '../../libs/redis-broker/src/core/errors/invalid-broker-options.error.js';
import { batchWindow } from '../../libs/redis-broker/src/core/options/batch.options.js';
import {
  resolveChannelListenerOptions,
  resolveQueueHandlerOptions,
  resolveStreamConsumerOptions,
} from '../../libs/redis-broker/src/core/options/handler-options.validation.js';
import { resolveBrokerOptions } from '../../libs/redis-broker/src/core/options/module-options.validation.js';

/** The error `run` throws; fails the test when it throws none or another kind. */
function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection, got none');
}

type Raw = Parameters<typeof resolveQueueHandlerOptions>[1];
const queue = (batch: unknown) => resolveQueueHandlerOptions('H@q', { batch } as Raw, undefined);
const stream = (batch: unknown) => resolveStreamConsumerOptions('H@s', { batch } as Parameters<typeof resolveStreamConsumerOptions>[1], undefined);

describe('batch options', () => {
  it('resolves size and the default maxWaitMs, and leaves batch undefined when absent', () => {
    expect(queue({ size: 100 }).batch).toEqual({ size: 100, maxWaitMs: 20 });
    expect(stream({ size: 5, maxWaitMs: 0 }).batch).toEqual({ size: 5, maxWaitMs: 0 });
    expect(resolveQueueHandlerOptions('H@q', {}, undefined).batch).toBeUndefined();
  });

  it('rejects a size below 1, above 10000, fractional or missing, naming batch.size and the value', () => {
    expect(rejection(() => queue({ size: 0 }))).toContain('option "H@q.batch.size": got 0;');
    expect(rejection(() => queue({ size: 10_001 }))).toContain('option "H@q.batch.size": got 10001;');
    expect(rejection(() => stream({ size: 2.5 }))).toContain('option "H@s.batch.size": got 2.5;');
    expect(rejection(() => queue({ maxWaitMs: 5 }))).toContain('option "H@q.batch.size": got undefined;');
  });

  it('rejects a batch beside rateLimit or globalConcurrency, naming batch: limits count single messages', () => {
    const limited = { batch: { size: 10 }, rateLimit: { max: 5, perMs: 1_000 } };
    expect(rejection(() => resolveQueueHandlerOptions('H@q', limited as Raw, undefined))).toContain('option "H@q.batch"');
    const leased = { batch: { size: 10 }, globalConcurrency: 2 };
    expect(rejection(() => resolveStreamConsumerOptions('H@s', leased as Parameters<typeof resolveStreamConsumerOptions>[1], undefined))).toContain('option "H@s.batch"');
  });

  it('reads nothing ahead on batch and limited handlers, and refuses an explicit readAhead there', () => {
    expect(resolveQueueHandlerOptions('H@q', { concurrency: 4, batch: { size: 10 } }, undefined).readAhead).toBe(0);
    expect(resolveQueueHandlerOptions('H@q', { concurrency: 4, globalConcurrency: 2 }, undefined).readAhead).toBe(0);
    expect(resolveQueueHandlerOptions('H@q', { concurrency: 4 }, undefined).readAhead).toBe('auto');
    expect(rejection(() => resolveQueueHandlerOptions('H@q', { batch: { size: 10 }, readAhead: 5 }, undefined))).toContain('option "H@q.readAhead": got 5;');
    const limited = { rateLimit: { max: 5, perMs: 1_000 }, readAhead: 3 };
    expect(rejection(() => resolveStreamConsumerOptions('H@s', limited as Parameters<typeof resolveStreamConsumerOptions>[1], undefined))).toContain('option "H@s.readAhead": got 3;');
  });

  it('rejects a negative or too long maxWaitMs, naming batch.maxWaitMs', () => {
    expect(rejection(() => queue({ size: 10, maxWaitMs: -1 }))).toContain('option "H@q.batch.maxWaitMs": got -1;');
    expect(rejection(() => stream({ size: 10, maxWaitMs: 60_001 }))).toContain('option "H@s.batch.maxWaitMs": got 60001;');
  });

  it('rejects a batch that is not an object and unknown keys inside it', () => {
    expect(rejection(() => queue(100))).toContain('option "H@q.batch": got 100;');
    expect(rejection(() => queue({ size: 10, max: 3 }))).toContain('"H@q.batch.max"');
  });

  it('rejects batch on @OnChannel, naming the option', () => {
    const message = rejection(() => resolveChannelListenerOptions('H@c', { batch: { size: 10 } } as Parameters<typeof resolveChannelListenerOptions>[1], undefined));
    expect(message).toContain('Unknown nest-redis-broker option "H@c.batch"');
  });

  it('rejects batch in the module defaults: it belongs on the handler', () => {
    expect(rejection(() => resolveBrokerOptions({ queueDefaults: { batch: { size: 10 } } }))).toContain('option "queueDefaults.batch"');
    expect(rejection(() => resolveBrokerOptions({ streamDefaults: { batch: { size: 10 } } }))).toContain('option "streamDefaults.batch"');
  });

  it('holds concurrency batches at once, or prefetch messages when that is more', () => {
    expect(batchWindow({ size: 100, maxWaitMs: 20 }, { concurrency: 2, prefetch: 0 })).toBe(200);
    expect(batchWindow({ size: 10, maxWaitMs: 20 }, { concurrency: 1, prefetch: 50 })).toBe(50);
  });
});
