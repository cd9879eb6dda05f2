import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { QueueHandler, QueueKeys } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred, type CapturingLogger } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const CONSUMER = 'count-ack-consumer';
const keys = new QueueKeys('count-acks', '');
const processing = keys.processing(CONSUMER);

const runs = new Map<string, number>();
const running = new Set<string>();
const oldGate = deferred();
const newGate = deferred();
/** Gates of the equal-copies case: the n-th start of body `a`, and `x`. */
const copyGates = [deferred(), deferred()];
const xGate = deferred();
let copyStarts = 0;

@Injectable()
class GatedHandler {
  @QueueHandler('count-acks', { concurrency: 10, blockTimeoutMs: 100 })
  async handle(payload: { kind: string; i: number }): Promise<void> {
    const name = `${payload.kind}-${payload.i}`;
    runs.set(name, (runs.get(name) ?? 0) + 1);
    running.add(name);
    if (payload.kind === 'old') await oldGate.promise;
    if (payload.kind === 'new') await newGate.promise;
    running.delete(name);
  }

  @QueueHandler('count-acks-copies', { concurrency: 3, blockTimeoutMs: 100 })
  async copies(payload: { kind: string }): Promise<void> {
    if (payload.kind === 'a') await copyGates[copyStarts++].promise;
    if (payload.kind === 'x') await xGate.promise;
  }
}

/**
 * Acks cut the oldest copies of the processing list by count while the
 * consumer's model of the list is exact. A reaper that returns the list of a
 * consumer it presumes dead (a long pause) invalidates that model behind the
 * consumer's back: the cut must then be refused, or it would remove copies of
 * messages fetched after the reap, still running, and lose them in a crash.
 */
describe('acks by count', () => {
  const ctx = useRedis();
  let app: INestApplicationContext;
  let logger: CapturingLogger;

  beforeAll(async () => {
    ({ app, logger } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: CONSUMER }, [GatedHandler]));
  });

  afterAll(async () => {
    oldGate.resolve();
    newGate.resolve();
    for (const gate of copyGates) gate.resolve();
    xGate.resolve();
    await app?.close();
  });

  it('are refused after the list was reaped, and never cut the copies of messages fetched since', async () => {
    // Warm up: the consumer reads its list whole and marks itself alive (its model is exact from then on).
    await ctx.plain.lpush('count-acks', JSON.stringify({ kind: 'warm', i: 0 }));
    await waitFor(async () => runs.get('warm-0') === 1 && (await ctx.plain.llen(processing)) === 0 && (await ctx.plain.exists(keys.alive(CONSUMER))) === 1, {
      description: 'the warm-up message acked',
    });

    const old = [0, 1, 2, 3, 4].map((i) => JSON.stringify({ kind: 'old', i }));
    await ctx.plain.lpush('count-acks', ...old);
    await waitFor(() => running.size === 5, { description: 'five old messages running' });

    // What a reaper does to a consumer it presumes dead: its list goes (back to the queue, elsewhere), its marker too.
    await ctx.plain.multi().del(processing).del(keys.alive(CONSUMER)).exec();

    const fresh = [0, 1, 2, 3, 4].map((i) => JSON.stringify({ kind: 'new', i }));
    await ctx.plain.lpush('count-acks', ...fresh);
    await waitFor(() => running.size === 10, { description: 'five new messages running beside the old ones' });
    expect((await ctx.plain.lrange(processing, 0, -1)).sort()).toEqual([...fresh].sort());

    // The old messages finish: their copies would be the five oldest of the list, by the consumer's count.
    oldGate.resolve();
    await waitFor(() => running.size === 5, { description: 'the old handlers done' });
    // Their ack was answered: refused (and said so), or, were it wrongly let through, it cut the list.
    await waitFor(async () => logger.text().includes('Ack refused on queue "count-acks"')
      || (await ctx.plain.llen(processing)) !== fresh.length, { description: 'the ack of the old messages to be answered' });
    // The new messages still run: every one of their copies must still be there.
    expect((await ctx.plain.lrange(processing, 0, -1)).sort()).toEqual([...fresh].sort());

    newGate.resolve();
    await waitFor(async () => (await ctx.plain.llen(processing)) === 0, { description: 'the new messages acked' });
    expect(await ctx.plain.llen('count-acks')).toBe(0);
    for (const name of ['old-0', 'old-4', 'new-0', 'new-4']) expect(runs.get(name)).toBe(1);
  });

  it('keep the copy of a running message when an equal copy acked out of order took an older place', async () => {
    const copyKeys = new QueueKeys('count-acks-copies', '');
    const list = copyKeys.processing(CONSUMER);
    await ctx.plain.lpush('count-acks-copies', JSON.stringify({ kind: 'warm' }));
    await waitFor(async () => (await ctx.plain.llen(list)) === 0 && (await ctx.plain.exists(copyKeys.alive(CONSUMER))) === 1, {
      description: 'the warm-up message acked',
    });
    const a = JSON.stringify({ kind: 'a' });
    const x = JSON.stringify({ kind: 'x' });
    // Taken in the order a, x, a: all three run at once.
    await ctx.plain.lpush('count-acks-copies', a, x, a);
    await waitFor(() => copyStarts === 2, { description: 'both copies of a running' });
    await waitFor(async () => (await ctx.plain.llen(list)) === 3, { description: 'three copies held' });
    // The later a finishes first: its ack (by body) takes the oldest copy of a, the first a's place.
    copyGates[1].resolve();
    await waitFor(async () => (await ctx.plain.llen(list)) === 2, { description: 'one copy of a acked' });
    // Then the first a: now the oldest of the list by the consumer's count is x's copy, not an a.
    copyGates[0].resolve();
    await waitFor(async () => (await ctx.plain.llen(list)) === 1, { description: 'the other copy of a acked' });
    // x still runs: its copy is the one left.
    expect(await ctx.plain.lrange(list, 0, -1)).toEqual([x]);
    xGate.resolve();
    await waitFor(async () => (await ctx.plain.llen(list)) === 0, { description: 'x acked' });
  });
});
