import { Injectable } from '@nestjs/common';
import { QueueHandler, type QueueMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const COUNT = 600;
/** Handled runs per message number, by queue. */
const runs = { rides: new Map<number, number>(), mixed: new Map<number, number>() };
/** Successful runs per message number of "mixed". */
const succeeded = new Map<number, number>();

function count(map: Map<number, number>, n: number): void {
  map.set(n, (map.get(n) ?? 0) + 1);
}

@Injectable()
class RidingHandlers {
  // Window 20 (10 running + 10 read ahead): fetches of 10, each sent before the last batch is dispatched.
  @QueueHandler('rides', { concurrency: 10, blockTimeoutMs: 30_000 })
  rides(payload: { n: number }): void {
    count(runs.rides, payload.n);
  }

  /** Every 25th message fails its first attempt: retries interleave with acks riding fetches. */
  @QueueHandler('mixed', { concurrency: 10, blockTimeoutMs: 30_000, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 1, jitter: false } })
  mixed(payload: { n: number }, ctx: QueueMessageContext): void {
    count(runs.mixed, payload.n);
    if (payload.n % 25 === 0 && ctx.attempt === 1) throw new Error(`first attempt of ${payload.n}`);
    count(succeeded, payload.n);
  }
}

/** One `EVALSHA` (or `EVAL`) of a broker script on a queue's processing list, as MONITOR shows it. */
interface ScriptCall {
  keys: number;
  args: string[];
}

describe('acks ride the next fetch of a busy reliable queue', () => {
  // Quiet while MONITOR starts (ioredis mistakes a command seen before its OK for a reply).
  const broker = useBrokerApp(
    { heartbeatIntervalMs: 30_000, consumerTtlMs: 60_000, delayedPollMs: 50, scheduleCheckMs: 30_000 },
    [RidingHandlers],
  );
  let monitor: Awaited<ReturnType<typeof broker.plain.monitor>> | undefined;

  afterAll(() => {
    monitor?.disconnect();
  });

  /** Echoes MONITOR has shown. */
  const echoed = new Set<string>();

  /** Resolves once MONITOR has shown everything Redis ran before now (its feed is one ordered stream). */
  async function monitorCaughtUp(): Promise<void> {
    const token = `caught-up-${Math.random()}`;
    await broker.plain.echo(token);
    await waitFor(() => echoed.has(token), { description: 'MONITOR to show the echo' });
  }

  /** Top-level script calls whose keys name `queue`'s processing list (fetch: 6 keys; ack: 4). */
  async function watchScripts(queue: string): Promise<ScriptCall[]> {
    const calls: ScriptCall[] = [];
    monitor ??= await broker.plain.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0].toLowerCase() === 'echo') echoed.add(args[1]);
      // EVAL too: ioredis sends a script's source when Redis does not know its sha yet.
      if (source === 'lua' || !['evalsha', 'eval'].includes(args[0].toLowerCase())) return;
      const keys = Number(args[2]);
      if (args.slice(3, 3 + keys).some((key) => key.startsWith(`{${queue}}:processing:`))) calls.push({ keys, args: args.slice(3) });
    });
    await broker.plain.ping();
    return calls;
  }

  async function processingLength(queue: string): Promise<number> {
    const lists = await broker.plain.keys(`{${queue}}:processing:*`);
    let total = 0;
    for (const list of lists) total += await broker.plain.llen(list);
    return total;
  }

  it('cuts the handled copies in the fetch script, with no ack call of their own but at the end of the burst', async () => {
    // The consumer is past its start-up and waits in its blocking pop.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const calls = await watchScripts('rides');
    await broker.plain.lpush('rides', ...Array.from({ length: COUNT }, (_, n) => JSON.stringify({ n })));
    await waitFor(() => runs.rides.size === COUNT, { description: 'every message handled' });
    await waitFor(async () => (await processingLength('rides')) === 0, { description: 'the processing list emptied' });
    await monitorCaughtUp();
    expect([...runs.rides.values()].every((times) => times === 1)).toBe(true);
    // fetch.lua: 6 keys, then mode, count, startable and the riding cut.
    const fetches = calls.filter(({ keys }) => keys === 6);
    const acks = calls.filter(({ keys }) => keys === 4);
    const riding = fetches.map(({ args }) => Number(args[9])).filter((cut) => cut > 0);
    const cutByFetches = riding.reduce((sum, cut) => sum + cut, 0);
    // Each batch's acks board the fetch already on its way and ride the one after it. Only the
    // acks gathered when the queue ran dry (no fetch script follows a drained queue) go alone.
    expect(cutByFetches).toBeGreaterThanOrEqual(COUNT - 40);
    expect(riding.length).toBeGreaterThanOrEqual(COUNT / 10 - 4);
    expect(acks.length).toBeLessThanOrEqual(3);
  });

  it('keeps every message once while retries of failed messages interleave with riding acks', async () => {
    const calls = await watchScripts('mixed');
    await broker.plain.lpush('mixed', ...Array.from({ length: COUNT }, (_, n) => JSON.stringify({ n })));
    await waitFor(() => succeeded.size === COUNT, { timeoutMs: 30_000, description: 'every message succeeded' });
    await waitFor(async () => (await processingLength('mixed')) === 0, { description: 'the processing list emptied' });
    await monitorCaughtUp();
    for (let n = 0; n < COUNT; n += 1) {
      expect({ n, succeeded: succeeded.get(n), runs: runs.mixed.get(n) }).toEqual({ n, succeeded: 1, runs: n % 25 === 0 ? 2 : 1 });
    }
    expect(await broker.plain.exists('{mixed}:attempts', '{mixed}:dead', '{mixed}:delayed', 'mixed')).toBe(0);
    expect(calls.some(({ keys, args }) => keys === 6 && Number(args[9]) > 0)).toBe(true);
    expect(broker.logger.lines.filter(({ level, message }) => level === 'warn' && /ack/i.test(message))).toEqual([]);
  });
});
