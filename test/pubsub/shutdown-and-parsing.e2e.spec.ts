import { Injectable } from '@nestjs/common';
import { ChannelSubscriptionService, OnChannel } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

let gate = deferred();
const handled: unknown[] = [];
const strict: unknown[] = [];
const raw: unknown[] = [];

@Injectable()
class GatedListener {
  @OnChannel('work')
  async handle(payload: unknown): Promise<void> {
    await gate.promise;
    handled.push(payload);
  }
}

@Injectable()
class ParsingListeners {
  @OnChannel('events', { parse: 'json' })
  strictJson(payload: unknown): void {
    strict.push(payload);
  }

  @OnChannel('events', { parse: 'raw' })
  rawText(payload: unknown): void {
    raw.push(payload);
  }
}

describe('channel listeners at shutdown and with parse modes', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  it('runs the messages it already received when the app shuts down, and unsubscribes', async () => {
    gate = deferred();
    handled.length = 0;
    const { app } = await bootBroker({ connection: { url: ctx.redis.url } }, [GatedListener]);
    for (let i = 0; i < 5; i += 1) await ctx.plain.publish('work', String(i));
    await waitFor(() => app.get(ChannelSubscriptionService).stats()[0].buffered === 4, { description: 'four messages to wait behind the first' });
    const closing = app.close();
    gate.resolve();
    await closing;
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    expect(await ctx.plain.pubsub('NUMSUB', 'work')).toEqual(['work', 0]);
  });

  it('discards what is still buffered at the shutdown deadline and says so', async () => {
    gate = deferred();
    handled.length = 0;
    const { app, logger } = await bootBroker({ connection: { url: ctx.redis.url }, shutdownTimeoutMs: 100 }, [GatedListener]);
    for (let i = 0; i < 5; i += 1) await ctx.plain.publish('work', String(i));
    await waitFor(() => app.get(ChannelSubscriptionService).stats()[0].buffered === 4, { description: 'four messages to wait behind the first' });
    await app.close();
    expect(logger.text()).toMatch(/Shutdown deadline passed: 4 buffered message\(s\) of channel "work" for GatedListener@handle were not run/);
    gate.resolve();
  });

  it("skips and logs text that is not JSON with parse: 'json', and hands the string as it is with parse: 'raw'", async () => {
    const { app, logger } = await bootBroker({ connection: { url: ctx.redis.url } }, [ParsingListeners]);
    try {
      await ctx.plain.publish('events', 'not json');
      await ctx.plain.publish('events', '{"ok":true}');
      await waitFor(() => strict.length === 1 && raw.length === 2, { description: 'both listeners to see the messages' });
      expect(strict).toEqual([{ ok: true }]);
      expect(raw).toEqual(['not json', '{"ok":true}']);
      expect(logger.text()).toMatch(/ParsingListeners@strictJson skipped a message of channel "events" that is not JSON/);
    } finally {
      await app.close();
    }
  });
});
