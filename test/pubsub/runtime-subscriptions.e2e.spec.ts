import { Injectable } from '@nestjs/common';
import {
  BrokerClient,
  ChannelSubscriptionService,
  InvalidBrokerOptionsError,
  OnChannel,
  type ChannelMessageContext,
} from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const decorated: unknown[] = [];

@Injectable()
class SystemNotices {
  @OnChannel('notices')
  onNotice(payload: unknown): void {
    decorated.push(payload);
  }
}

describe('runtime channel subscriptions', () => {
  const broker = useBrokerApp({ keyPrefix: 'app:' }, [SystemNotices]);

  it('delivers to a per-user listener until it unsubscribes, then unsubscribes the channel in Redis', async () => {
    const subscriptions = broker.app.get(ChannelSubscriptionService);
    const got: unknown[] = [];
    const unsubscribe = await subscriptions.subscribe('notifications.u1', (payload) => got.push(payload));
    expect(await broker.plain.pubsub('CHANNELS', 'app:notifications.*')).toEqual(['app:notifications.u1']);
    expect(await broker.app.get(BrokerClient).publish('notifications.u1', { text: 'hi' })).toBe(1);
    await waitFor(() => got.length === 1, { description: 'the runtime listener to receive' });
    expect(got).toEqual([{ text: 'hi' }]);
    await unsubscribe();
    await unsubscribe();
    expect(await broker.plain.pubsub('CHANNELS', 'app:notifications.*')).toEqual([]);
    expect(await broker.app.get(BrokerClient).publish('notifications.u1', 'lost')).toBe(0);
  });

  it('keeps a channel subscribed while a decorated handler still listens to it', async () => {
    const subscriptions = broker.app.get(ChannelSubscriptionService);
    const got: unknown[] = [];
    const unsubscribe = await subscriptions.subscribe('notices', (payload) => got.push(payload), { parse: 'raw' });
    await broker.plain.publish('app:notices', '{"n":1}');
    await waitFor(() => got.length === 1 && decorated.length === 1, { description: 'both listeners to receive' });
    expect(got).toEqual(['{"n":1}']);
    expect(decorated).toEqual([{ n: 1 }]);
    await unsubscribe();
    expect(await broker.plain.pubsub('NUMSUB', 'app:notices')).toEqual(['app:notices', 1]);
    await broker.plain.publish('app:notices', '2');
    await waitFor(() => decorated.length === 2, { description: 'the decorated handler to keep receiving' });
    expect(got).toHaveLength(1);
  });

  it('prefixes patterns with the key prefix and reports channels without it', async () => {
    const subscriptions = broker.app.get(ChannelSubscriptionService);
    const got: ChannelMessageContext[] = [];
    const unsubscribe = await subscriptions.subscribe({ pattern: 'rooms.*' }, (_payload, ctx) => got.push(ctx));
    await broker.plain.publish('rooms.lobby', 'not ours: no prefix');
    await broker.plain.publish('app:rooms.lobby', 'ours');
    await waitFor(() => got.length === 1, { description: 'the prefixed message' });
    expect(got[0]).toMatchObject({ channel: 'rooms.lobby', pattern: 'rooms.*', raw: 'ours' });
    await unsubscribe();
  });

  it('rejects invalid selectors and options, naming them', async () => {
    const subscriptions = broker.app.get(ChannelSubscriptionService);
    await expect(subscriptions.subscribe('has space', () => undefined)).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(subscriptions.subscribe({ pattern: 'a.*', sharded: true } as never, () => undefined)).rejects.toThrow(/no sharded pattern/);
    await expect(subscriptions.subscribe('ok', () => undefined, { bufferSize: 0 })).rejects.toThrow(/subscribe\.bufferSize/);
    await expect(subscriptions.subscribe('ok', () => undefined, { overflow: 'block' as never })).rejects.toThrow(/subscribe\.overflow/);
    await expect(broker.app.get(BrokerClient).publish('ok', 'x', { shard: true } as never)).rejects.toThrow(/publish\.shard/);
  });
});
