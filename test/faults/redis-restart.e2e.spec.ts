import { Injectable } from '@nestjs/common';
import { BrokerClient, Payload, QueueHandler, StreamConsumer } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';
import { ledger, report } from '../support/ledger.js';

const SENT = 300;
const RESTARTS = 2;
const WINDOW = 4;
const handled: string[] = [];

@Injectable()
class RestartHandlers {
  @QueueHandler('restart-q', { concurrency: WINDOW })
  async queue(@Payload('id') id: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    handled.push(String(id));
  }

  @StreamConsumer({
    stream: 'restart-s', group: 'g', concurrency: WINDOW, claimIdleMs: 1_000, reclaimIntervalMs: 100,
    backoff: { type: 'fixed', delayMs: 100, jitter: false },
  })
  async stream(@Payload('n') n: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    handled.push(n);
  }
}

describe('Redis SIGKILLed and restarted (AOF, appendfsync always) during production and consumption', () => {
  const broker = useBrokerApp({ consumerTtlMs: 1_000, heartbeatIntervalMs: 200 }, [RestartHandlers], { server: { appendOnly: true } });

  /**
   * Sends 0..SENT-1 one by one, as an application would: an enqueue that
   * rejects is retried. Meanwhile Redis is killed and restarted RESTARTS
   * times. Resolves to the numbers Redis acknowledged and the errors seen.
   */
  async function produceThroughRestarts(send: (n: number) => Promise<unknown>): Promise<{ acked: number[]; errors: number }> {
    const acked: number[] = [];
    let errors = 0;
    const producing = (async () => {
      for (let n = 0; n < SENT; n += 1) {
        for (;;) {
          try {
            await send(n);
            acked.push(n);
            break;
          } catch {
            errors += 1;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        // Spread production over the restarts.
        if (n % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    for (let restart = 1; restart <= RESTARTS; restart += 1) {
      const target = (restart * SENT) / (RESTARTS + 1);
      await waitFor(() => acked.length >= target && handled.length > 0, { timeoutMs: 20_000, description: `${target} acknowledged enqueues` });
      await broker.redis.kill();
      await waitFor(() => broker.plain.status !== 'ready', { description: 'connections to drop' });
      await broker.redis.start();
    }
    await producing;
    return { acked, errors };
  }

  it('reliable list queue: every acknowledged enqueue is handled after 2 restarts', async () => {
    handled.length = 0;
    const client = broker.app.get(BrokerClient);
    const { acked, errors } = await produceThroughRestarts((id) => client.enqueue('restart-q', { id }));
    await waitForQueuesIdle(broker.redis.url, ['restart-q'], { timeoutMs: 30_000 }).catch(async (error: unknown) => {
      // Say where the messages are, for the CI log.
      const keys = await broker.plain.keys('*restart-q*');
      const sizes = await Promise.all(keys.map(async (k) => `${k}=${await broker.plain.type(k)}:${(await broker.plain.type(k)) === 'list' ? await broker.plain.llen(k) : ''}`));
      throw new Error(`${String(error)}; keys: ${sizes.join(' ')}; missing: ${ledger(acked, handled).missing.join(',')}; health: ${JSON.stringify(broker.app.get(ConsumerRunner).health())}`);
    });
    const result = ledger(acked, handled);
    report('queue Redis restart x2', { sent: SENT, acked: acked.length, producerErrors: errors, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates });
    expect(acked).toHaveLength(SENT);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    // A repeat comes from a reply lost with the connection: a resent LPUSH, or a message taken just before the kill.
    expect(result.duplicates).toBeLessThanOrEqual(RESTARTS * (WINDOW + 1) + errors);
    // The loops resumed on their own: running and not failing, and the connections said they were back.
    expect(broker.app.get(ConsumerRunner).health().every((h) => h.state === 'running' && !h.failing)).toBe(true);
    expect(broker.logger.text()).toContain('is ready again');
  });

  it('rejects an enqueue while Redis is down past the retry budget, and stores nothing for it', async () => {
    const { app: producer } = await bootBroker({
      connection: { url: broker.redis.url, redis: { maxRetriesPerRequest: 1 } }, producerOnly: true,
    }, []);
    try {
      const client = producer.get(BrokerClient);
      await broker.redis.kill();
      await expect(client.enqueue('down-q', { id: 1 })).rejects.toThrow();
      await expect(client.append('down-s', { n: '1' })).rejects.toThrow();
      await broker.redis.start();
      await waitFor(() => broker.plain.status === 'ready', { description: 'the plain client to reconnect' });
      const id = await client.enqueue('down-q', { id: 2 });
      // Only the enqueue that resolved is stored: a rejected one is never written later behind the caller's back.
      const stored = (await broker.plain.lrange('down-q', 0, -1)).map((text) => JSON.parse(text) as { id: string; p: unknown });
      expect(stored).toEqual([expect.objectContaining({ id, p: { id: 2 } })]);
      expect(await broker.plain.exists('down-s')).toBe(0);
    } finally {
      await producer.close();
    }
  });

  it('stream consumer group: every acknowledged append is handled after 2 restarts', async () => {
    handled.length = 0;
    const client = broker.app.get(BrokerClient);
    const { acked, errors } = await produceThroughRestarts((n) => client.append('restart-s', { n: String(n) }));
    await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'restart-s', group: 'g' }], { timeoutMs: 30_000 });
    const result = ledger(acked, handled);
    report('stream Redis restart x2', { sent: SENT, acked: acked.length, producerErrors: errors, handled: result.handled, missing: result.missing.length, duplicates: result.duplicates });
    expect(acked).toHaveLength(SENT);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.duplicates).toBeLessThanOrEqual(RESTARTS * (WINDOW + 1) + errors);
  });
});
