import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BrokerClient } from 'nest-redis-broker';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const NAMES = 100_000;
const WRITES_AT_ONCE = 1_000;

/** Heap in use after a full garbage collection. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe("a producer's key cache", () => {
  const broker = useBrokerApp({ producerOnly: true }, []);

  it('keeps a bounded number of names when a producer writes to ever new queues and streams', { timeout: 180_000 }, async () => {
    const client = broker.app.get(BrokerClient);
    // Warm up the code paths, so what they allocate once is not counted.
    for (let i = 0; i < 2_000; i += 1) await client.enqueueMany(`warm-${i}`, []);
    const before = heapAfterGc();
    // An empty batch builds the queue's keys and sends nothing to Redis.
    for (let i = 0; i < NAMES; i += 1) await client.enqueueMany(`tenant-${i}.jobs`, []);
    const afterQueues = heapAfterGc();
    // Streams: a refused append has built the stream's keys too.
    // (Counted by hand: vitest's expect keeps what each assertion saw.)
    let refused = 0;
    for (let i = 0; i < NAMES; i += 1) {
      await client.append(`tenant-${i}.events`, {}).catch((error: unknown) => {
        if (error instanceof TypeError) refused += 1;
      });
    }
    const afterStreams = heapAfterGc();
    // Real writes: each new name is also recorded in the broker's registry of names.
    for (let i = 0; i < NAMES; i += WRITES_AT_ONCE) {
      await Promise.all(Array.from({ length: WRITES_AT_ONCE }, (_, j) => client.enqueue(`tenant-${i + j}.mail`, 1)));
    }
    const afterWrites = heapAfterGc();
    expect(refused).toBe(NAMES);
    // Kept, 100,000 names hold about 45 MB of queue keys and 12 MB of stream keys.
    expect(afterQueues - before).toBeLessThan(4 * 1024 * 1024);
    expect(afterStreams - afterQueues).toBeLessThan(4 * 1024 * 1024);
    // Kept, 100,000 registered names hold about 10 MB.
    expect(afterWrites - afterStreams).toBeLessThan(4 * 1024 * 1024);
  });
});
