import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { BrokerClient, InvalidBrokerOptionsError, Payload, QueueHandler, StreamConsumer } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { ledger, report } from '../support/ledger.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../support/redis-sentinel.js';
import { produceUntil } from '../support/resending-producer.js';

const MIN_SENT = 200;
const WINDOW = 4;
const handled = { 'sn-graceful': [] as string[], 'sn-killed': [] as string[] };
const entries = { 'sn-graceful': [] as string[], 'sn-killed': [] as string[] };
type Scenario = keyof typeof handled;

async function work(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5));
}

@Injectable()
class SentinelHandlers {
  @QueueHandler('sn-graceful', { concurrency: WINDOW, blockTimeoutMs: 500 })
  async graceful(@Payload('id') id: number): Promise<void> {
    await work();
    handled['sn-graceful'].push(String(id));
  }

  @QueueHandler('sn-killed', { concurrency: WINDOW, blockTimeoutMs: 500 })
  async killed(@Payload('id') id: number): Promise<void> {
    await work();
    handled['sn-killed'].push(String(id));
  }

  @StreamConsumer({ stream: 'sn-graceful-s', group: 'g', concurrency: WINDOW, blockTimeoutMs: 500, claimIdleMs: 2_000, reclaimIntervalMs: 200 })
  async gracefulStream(@Payload('n') n: string): Promise<void> {
    await work();
    entries['sn-graceful'].push(n);
  }

  @StreamConsumer({ stream: 'sn-killed-s', group: 'g', concurrency: WINDOW, blockTimeoutMs: 500, claimIdleMs: 2_000, reclaimIntervalMs: 200 })
  async killedStream(@Payload('n') n: string): Promise<void> {
    await work();
    entries['sn-killed'].push(n);
  }
}

/**
 * Sends 0, 1, 2... to the queue and the stream until `done()` and at least
 * MIN_SENT, one at a time, each with `replicas: 1`; a send that rejects
 * (connection lost, no replica confirmed) is sent again, so every number ends
 * up confirmed by a replica at least once.
 */
function produce(client: BrokerClient, scenario: Scenario, done: () => boolean): Promise<{ sent: number; resent: number }> {
  const durable = { replicas: 1, replicasTimeoutMs: 2_000 };
  return produceUntil(MIN_SENT, done, (n) => [
    () => client.enqueue(scenario, { id: n }, durable),
    () => client.append(`${scenario}-s`, { n: String(n) }, durable),
  ]);
}

async function expectEverythingHandled(scenario: Scenario, sent: number, facts: Record<string, number>): Promise<void> {
  await waitFor(() => new Set(handled[scenario]).size >= sent && new Set(entries[scenario]).size >= sent, {
    timeoutMs: 60_000, description: `every ${scenario} message and entry to be handled`,
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}; queue missing ${ledger(sent, handled[scenario]).missing.join(',')}; stream missing ${ledger(sent, entries[scenario]).missing.join(',')}`);
  });
  const queue = ledger(sent, handled[scenario]);
  const stream = ledger(sent, entries[scenario]);
  report(`Sentinel ${scenario}`, {
    sent, ...facts, queueMissing: queue.missing.length, queueDuplicates: queue.duplicates,
    streamMissing: stream.missing.length, streamDuplicates: stream.duplicates,
  });
  expect(queue.missing).toEqual([]);
  expect(stream.missing).toEqual([]);
  expect(queue.unexpected).toEqual([]);
  expect(stream.unexpected).toEqual([]);
}

describe('Redis Sentinel: a master, a replica and three sentinels; the master fails over during consumption', () => {
  let deployment: RedisSentinelHandle;
  let app: INestApplicationContext;

  beforeAll(async () => {
    deployment = await startRedisSentinel();
    ({ app } = await bootBroker(
      { connection: { sentinels: deployment.sentinels, name: deployment.name }, heartbeatIntervalMs: 200, consumerTtlMs: 2_000 },
      [SentinelHandlers],
    ));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await deployment?.stop();
  });

  it('loses nothing a replica confirmed when SENTINEL FAILOVER swaps master and replica mid-consumption', async () => {
    const client = app.get(BrokerClient);
    const before = await deployment.masterPort();
    let failedOver = false;
    const producing = produce(client, 'sn-graceful', () => failedOver);
    await waitFor(() => handled['sn-graceful'].length >= 30 && entries['sn-graceful'].length >= 30, { timeoutMs: 30_000, description: 'consumption under way' });
    const handledAtFailover = handled['sn-graceful'].length + entries['sn-graceful'].length;
    await deployment.failover();
    failedOver = true;
    expect(await deployment.masterPort()).not.toBe(before);
    const { sent, resent } = await producing;
    await expectEverythingHandled('sn-graceful', sent, { handledAtFailover, resent });
    expect(app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  }, 180_000);

  it('loses nothing a replica confirmed when the master is SIGKILLed mid-consumption and its replica takes over', async () => {
    const client = app.get(BrokerClient);
    const before = await deployment.masterPort();
    const master = deployment.servers.find((server) => server.port === before)!;
    let failedOver = false;
    const producing = produce(client, 'sn-killed', () => failedOver);
    await waitFor(() => handled['sn-killed'].length >= 30 && entries['sn-killed'].length >= 30, { timeoutMs: 30_000, description: 'consumption under way' });
    const handledAtKill = handled['sn-killed'].length + entries['sn-killed'].length;
    await master.kill();
    await deployment.waitForMasterOtherThan(before);
    // Restarted (empty, no persistence) only once the replica was promoted, else the sentinels could
    // see it back before judging it down and keep it as master. They turn it into the new master's
    // replica; until then durable sends are rejected (no replica confirms) and re-sent.
    await master.start();
    await deployment.waitForReplicaOnline();
    failedOver = true;
    const { sent, resent } = await producing;
    await expectEverythingHandled('sn-killed', sent, { handledAtKill, resent });
    expect(app.get(ConsumerRunner).health().every((h) => h.state === 'running')).toBe(true);
  }, 180_000);

  it('refuses sentinel options that cannot work, naming the option', async () => {
    const boot = (connection: object) => bootBroker({ connection }, []);
    await expect(boot({ sentinels: deployment.sentinels })).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(boot({ sentinels: deployment.sentinels })).rejects.toThrow(/"connection.name": got undefined.*required with connection.sentinels/);
    await expect(boot({ name: 'x' })).rejects.toThrow(/"connection.name".*only together with connection.sentinels/);
    await expect(boot({ sentinels: [], name: 'x' })).rejects.toThrow(/"connection.sentinels": got \[\]/);
    await expect(boot({ sentinels: [{ host: '127.0.0.1' }], name: 'x' })).rejects.toThrow(/"connection.sentinels\[0\].port": got null/);
    await expect(boot({ sentinels: ['127.0.0.1:26379'], name: 'x' })).rejects.toThrow(/"connection.sentinels\[0\]".*an object/);
    await expect(boot({ sentinels: deployment.sentinels, name: deployment.name, url: 'redis://127.0.0.1:1' }))
      .rejects.toThrow(/either connection.sentinels or connection.url/);
  });
});
