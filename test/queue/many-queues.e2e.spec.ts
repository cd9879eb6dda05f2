import { Injectable } from '@nestjs/common';
import { QueueHandler } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const QUEUES = Array.from({ length: 15 }, (_, i) => `many-${i}`);
const handled = new Set<string>();
const warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};
// Registered before the app boots (useBrokerApp boots in beforeAll).
process.on('warning', onWarning);

// Fifteen reliable queues share one command connection: each consumer must
// hear that connection close without one 'close' listener apiece (Node warns
// of a leak past ten listeners, and a warning per app start is noise).
function handlersFor(queues: string[]): new () => object {
  @Injectable()
  class ManyQueues {}
  for (const queue of queues) {
    const method = function (this: unknown): void {
      handled.add(queue);
    };
    Object.defineProperty(ManyQueues.prototype, queue, { value: method, writable: true, configurable: true });
    QueueHandler(queue)(ManyQueues.prototype, queue, Object.getOwnPropertyDescriptor(ManyQueues.prototype, queue)!);
  }
  return ManyQueues;
}

describe('an app with fifteen reliable queues', () => {
  const ctx = useBrokerApp({ connection: {} }, [handlersFor(QUEUES)]);
  afterAll(() => {
    process.off('warning', onWarning);
  });

  it('consumes every queue and leaks no listener warning', async () => {
    for (const queue of QUEUES) await ctx.plain.lpush(queue, JSON.stringify({ queue }));
    await waitFor(() => handled.size === QUEUES.length, { description: 'a message handled on every queue' });
    // Warnings are emitted on the next tick after the listener that crossed the limit was added.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });
});
