import { Injectable } from '@nestjs/common';
import { BrokerClient, Payload, QueueHandler, QueueKeys } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const batches: number[][] = [];

@Injectable()
class PatientHandler {
  // A minute's wait for a full batch: only shutdown can make this partial batch run soon.
  @QueueHandler('patient', { batch: { size: 100, maxWaitMs: 60_000 } })
  load(@Payload() items: { n: number }[]): void {
    batches.push(items.map((i) => i.n));
  }
}

describe('stopping a batch consumer', () => {
  const ctx = useRedis();

  it('runs the batch being gathered at once, without waiting maxWaitMs, and acknowledges it', async () => {
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, instanceId: 'patient-1' }, [PatientHandler]);
    await app.get(BrokerClient).enqueueMany('patient', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const processing = new QueueKeys('patient', '').processing('patient-1');
    // Fetched: the three are in this consumer's processing list.
    await waitFor(async () => (await ctx.plain.llen(processing)) === 3, { description: 'the batch fetched' });
    // Gathered: the fetch's reply reached the consumer, which holds the three. (Redis
    // moves them before the reply is read; a stop in between hands them back unrun.)
    const runner = app.get(ConsumerRunner);
    await waitFor(() => runner.health()[0]?.inFlight === 3, { description: 'the batch gathered' });
    expect(batches).toEqual([]);
    await app.close();
    expect(batches).toEqual([[1, 2, 3]]);
    // Acknowledged before the consumer let go: nothing went back to the queue.
    expect(await ctx.plain.llen(processing)).toBe(0);
    expect(await ctx.plain.llen('patient')).toBe(0);
  });
});
