import { Injectable, type INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { QueueHandler } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const handled: string[] = [];

@Injectable()
class IdleHandlers {
  @QueueHandler('idle-reliable', { concurrency: 4, blockTimeoutMs: 2_000 })
  reliable(payload: { n: string }): void {
    handled.push(`r${payload.n}`);
  }

  @QueueHandler('idle-fast', { mode: 'fast', concurrency: 4, blockTimeoutMs: 2_000 })
  fast(payload: { n: string }): void {
    handled.push(`f${payload.n}`);
  }
}

/** Calls of each command since the last CONFIG RESETSTAT, by every client (the test's own RESETSTAT left out). */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) if (match[1] !== 'config|resetstat') calls.set(match[1], Number(match[2]));
  return calls;
}

/** Client name by address (`ip:port`), from CLIENT LIST. */
async function clientNames(redis: Redis): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const line of ((await redis.client('LIST')) as string).split('\n')) {
    const addr = / addr=(\S+)/.exec(line)?.[1];
    if (addr) names.set(addr, / name=(\S*)/.exec(line)?.[1] ?? '');
  }
  return names;
}

describe('a consumer with nothing to do', () => {
  const ctx = useRedis();
  let app: INestApplicationContext;

  beforeAll(async () => {
    ({ app } = await bootBroker({ connection: { url: ctx.redis.url }, heartbeatIntervalMs: 60_000, consumerTtlMs: 120_000, delayedPollMs: 60_000, scheduleCheckMs: 60_000 }, [IdleHandlers]));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('waits in one blocking pop per block timeout instead of polling, and wakes for the next message', async () => {
    const { plain } = ctx;
    // A first message each, so both loops are past their start-up and have emptied their queue.
    await plain.lpush('idle-reliable', JSON.stringify({ n: '0' }));
    await plain.lpush('idle-fast', JSON.stringify({ n: '0' }));
    await waitFor(() => handled.length === 2, { description: 'the first messages' });
    // MONITOR says which connection sent each command; INFO commandstats also counts the ones MONITOR
    // does not show (admin commands). Nothing but the consumer and this test talks to this Redis.
    const monitor = await plain.monitor();
    const sent: { source: string; command: string }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => sent.push({ source, command: args[0].toLowerCase() }));
    try {
      await plain.config('RESETSTAT');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const window = sent.splice(0);
      const idle = await commandCalls(plain);
      const names = await clientNames(plain);
      const byConsumer = window.filter(({ source }) => names.get(source)?.startsWith('nrb:')).map(({ source, command }) => `${names.get(source)} ${command}`);
      const fromElsewhere = window.filter(({ source }) => !names.get(source)?.startsWith('nrb:')).map(({ command }) => command);
      // Within one block timeout each loop sits in a single BLMOVE / BRPOP, on its blocking connection:
      // no script runs, nothing is polled, on any of the consumer's connections.
      expect(fromElsewhere.filter((command) => command !== 'config')).toEqual([]);
      expect(byConsumer.filter((line) => !/^nrb:blocking:\S+ (blmove|brpop)$/.test(line))).toEqual([]);
      expect(byConsumer.length).toBeLessThanOrEqual(2);
      expect([...idle.keys()].filter((command) => command !== 'blmove' && command !== 'brpop')).toEqual([]);
      expect([...idle.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
    } finally {
      monitor.disconnect();
    }
    await plain.lpush('idle-reliable', JSON.stringify({ n: '1' }));
    await plain.lpush('idle-fast', JSON.stringify({ n: '1' }));
    await waitFor(() => handled.includes('r1') && handled.includes('f1'), { description: 'the messages that end the wait' });
  });
});
