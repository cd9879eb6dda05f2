import { Injectable } from '@nestjs/common';
import { BrokerClient, ChannelSubscriptionService, OnChannel, type ChannelMessageContext } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const seen = { plain: [] as unknown[], pattern: [] as string[], sharded: [] as unknown[] };

@Injectable()
class RecoveringListeners {
  @OnChannel('news')
  onNews(payload: unknown): void {
    seen.plain.push(payload);
  }

  @OnChannel({ pattern: 'alerts.*' })
  onAlert(_payload: unknown, ctx: ChannelMessageContext): void {
    seen.pattern.push(ctx.channel);
  }

  @OnChannel({ channel: 'ledger', sharded: true })
  onLedger(payload: unknown): void {
    seen.sharded.push(payload);
  }
}

/**
 * Publishes a probe on every subscription until each listener got one: after
 * a reconnect there is no signal for "resubscribed" that a plain client sees,
 * and messages published before it are lost by design.
 */
async function publishUntilAllReceive(client: BrokerClient, round: string): Promise<void> {
  await waitFor(
    async () => {
      if (!seen.plain.includes(round)) await client.publish('news', round).catch(() => 0);
      if (!seen.pattern.includes(`alerts.${round}`)) await client.publish(`alerts.${round}`, round).catch(() => 0);
      if (!seen.sharded.includes(round)) await client.publish('ledger', round, { sharded: true }).catch(() => 0);
      return seen.plain.includes(round) && seen.pattern.includes(`alerts.${round}`) && seen.sharded.includes(round);
    },
    { timeoutMs: 20_000, intervalMs: 100, description: `every listener to receive "${round}"` },
  );
}

function subscriberLines(list: string): string[] {
  return list.split('\n').filter((line) => line.includes('name=nrb:subscriber:'));
}

describe('resubscription after a lost connection', () => {
  const broker = useBrokerApp({}, [RecoveringListeners], { client: { maxRetriesPerRequest: null } });

  it('delivers on channels, patterns and sharded channels before anything breaks', async () => {
    await publishUntilAllReceive(broker.app.get(BrokerClient), 'r0');
  });

  it('resubscribes every channel, pattern and sharded channel after CLIENT KILL TYPE pubsub', async () => {
    const before = subscriberLines((await broker.plain.client('LIST')) as string);
    expect(before).toHaveLength(2);
    expect(await broker.plain.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(2);
    await publishUntilAllReceive(broker.app.get(BrokerClient), 'r1');
    const after = subscriberLines((await broker.plain.client('LIST')) as string);
    expect(after.find((l) => l.includes('nrb:subscriber:channels '))).toMatch(/ sub=1 psub=1 ssub=0 /);
    expect(after.find((l) => l.includes('nrb:subscriber:sharded-channels '))).toMatch(/ sub=0 psub=0 ssub=1 /);
  });

  it('resubscribes after Redis restarts, without restarting the app', async () => {
    await broker.redis.kill();
    await broker.redis.start();
    await publishUntilAllReceive(broker.app.get(BrokerClient), 'r2');
  });
});

describe('resubscription of a process whose last plain subscription was removed', () => {
  // No decorated listener: the runtime subscriptions below are all this process has.
  const broker = useBrokerApp({}, [], { client: { maxRetriesPerRequest: null } });

  it('still resubscribes a sharded channel after the last plain subscription of the process was removed', async () => {
    // Redis counts plain and sharded subscriptions apart; a connection whose
    // plain count reached 0 would be forgotten by ioredis' own resubscribe.
    const subscriptions = broker.app.get(ChannelSubscriptionService);
    const got: unknown[] = [];
    const unsubscribe = await subscriptions.subscribe({ channel: 'audit', sharded: true }, (payload) => got.push(payload));
    const temporary = await subscriptions.subscribe('short-lived', () => undefined);
    await temporary();
    // The process now holds no plain subscription at all, and the sharded one.
    await waitFor(async () => {
      const lines = subscriberLines((await broker.plain.client('LIST')) as string);
      return lines.every((line) => / sub=0 psub=0 /.test(line)) && lines.some((line) => / ssub=1 /.test(line));
    }, { description: 'no plain subscription left, the sharded one kept' });
    expect(await broker.plain.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
    await waitFor(
      async () => {
        if (got.length === 0) await broker.app.get(BrokerClient).publish('audit', 'after-kill', { sharded: true }).catch(() => 0);
        return got.length > 0;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the sharded runtime listener to receive after the kill' },
    );
    expect(got[0]).toBe('after-kill');
    await unsubscribe();
  });
});
