import { Injectable } from '@nestjs/common';
import { QueueHandler } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

/** How long the first message's handler keeps the process busy (synchronously). */
const BUSY_MS = 300;
const handled: number[] = [];
const busy = { start: 0, end: 0 };

@Injectable()
class OverlapHandler {
  // Window 4 (2 running + 2 read ahead): fetches of 2.
  @QueueHandler('overlap', { concurrency: 2, blockTimeoutMs: 30_000 })
  handle(payload: { n: number }): void {
    if (payload.n === 0) {
      busy.start = Date.now();
      while (Date.now() - busy.start < BUSY_MS) {
        // A handler that keeps the event loop busy: nothing else of this process runs meanwhile.
      }
      busy.end = Date.now();
    }
    handled.push(payload.n);
  }
}

describe('a queue consumer fetches the next batch while it runs the last', () => {
  // Quiet while MONITOR starts (ioredis mistakes a command seen before its OK for a reply).
  const broker = useBrokerApp({ heartbeatIntervalMs: 30_000, consumerTtlMs: 60_000, delayedPollMs: 30_000, scheduleCheckMs: 30_000 }, [OverlapHandler]);
  let monitor: Awaited<ReturnType<typeof broker.plain.monitor>> | undefined;

  afterAll(() => {
    monitor?.disconnect();
  });

  it('has Redis move the next batch into the processing list while a synchronous handler still runs', async () => {
    // The consumer is past its start-up and waits in its blocking pop.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Redis stamps each command it runs with its clock; the handler stamps its run with the same machine's.
    monitor = await broker.plain.monitor();
    /** Each move into the consumer's processing list (one per fetch): when Redis ran it, and what it moved. */
    const moves: { at: number; messages: string[] }[] = [];
    monitor.on('monitor', (time: string, args: string[]) => {
      if (args[0].toLowerCase() === 'lpush' && args[1].includes(':processing:')) moves.push({ at: Number(time) * 1_000, messages: args.slice(2) });
    });
    await broker.plain.ping();
    await broker.plain.lpush('overlap', ...Array.from({ length: 10 }, (_, n) => JSON.stringify({ n })));
    await waitFor(() => handled.length === 10, { description: 'all ten messages' });
    expect(busy.end - busy.start).toBeGreaterThanOrEqual(BUSY_MS);
    // The first fetch took 0 and 1 (half the window). The next, which took 2 and 3, was sent before
    // message 0 ran, so Redis ran it during that run; a fetch sent after the batch ran would come
    // after busy.end, and one taking the whole window would have moved 1, 2 and 3 together.
    const second = moves.find(({ messages }) => messages.includes(JSON.stringify({ n: 2 })));
    expect(second?.messages).not.toContain(JSON.stringify({ n: 1 }));
    expect(second!.at).toBeLessThan(busy.end);
    expect([...handled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
