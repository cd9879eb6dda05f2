import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BrokerClient, InvalidBrokerOptionsError, Payload, QueueHandler, ReplicationNotConfirmedError } from 'nest-redis-broker';
import { startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';

const handled: number[] = [];

/** The payload of a message as `enqueue` stores it (in an envelope, under "p"). */
const payloadOf = (text: string): unknown => (JSON.parse(text) as { p: unknown }).p;

@Injectable()
class DurableHandlers {
  @QueueHandler('dp-consumed', { blockTimeoutMs: 200 })
  consumed(@Payload('id') id: number): void {
    handled.push(id);
  }
}

/** Whether the master reports its one replica online and caught up with every write so far. */
async function replicaInSync(master: Redis): Promise<boolean> {
  const info = String(await master.info('replication'));
  const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
  const replica = /slave0:.*state=online,offset=(\d+)/.exec(info);
  return replica !== null && Number(replica[1]) >= offset;
}

/**
 * Whether the broker's durable-write connection is blocked in WAIT with every
 * earlier reply written out: the write's answer is on its way to the client.
 */
async function writerBlockedInWait(master: Redis): Promise<boolean> {
  const clients = String(await master.client('LIST')).split('\n');
  const writer = clients.find((line) => line.includes('name=nrb:blocking:replicated-writes'));
  return writer !== undefined && / cmd=wait /.test(writer) && / obl=0 oll=0 /.test(writer);
}

describe('enqueue and append with replicas: WAIT on the connection that wrote', () => {
  let master: RedisServerHandle;
  let replica: RedisServerHandle;
  let app: INestApplicationContext;
  let onMaster: Redis;
  let onReplica: Redis;

  beforeAll(async () => {
    master = await startRedisServer();
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    onMaster = new Redis(master.url);
    onReplica = new Redis(replica.url);
    // The master is killed and restarted once: its refused reconnects are expected.
    onMaster.on('error', () => undefined);
    await waitFor(() => replicaInSync(onMaster), { timeoutMs: 20_000, description: 'the replica to sync' });
    ({ app } = await bootBroker({ connection: { url: master.url }, streams: { 'dp-trimmed': { maxLen: 5 } } }, [DurableHandlers]));
  });

  afterAll(async () => {
    replica?.resume();
    await app?.close();
    onMaster?.disconnect();
    onReplica?.disconnect();
    await replica?.stop();
    await master?.stop();
  });

  it('resolves once the replica has the message or entry, which can be read on the replica right away', async () => {
    const client = app.get(BrokerClient);
    expect(await client.enqueue('dp-q', { id: 1 }, { replicas: 1 })).toEqual(expect.any(String));
    expect(await client.enqueue('dp-q', { id: 2 }, { replicas: 1, replicasTimeoutMs: 5_000, delayMs: 60_000 })).toEqual(expect.any(String));
    const id = await client.append('dp-s', { n: '1' }, { replicas: 1 });
    const ids = await client.appendMany('dp-s', [{ n: '2' }, { n: '3' }], { replicas: 1 });
    // WAIT returned 1: the replica acknowledged the offset of these writes, so it already serves them.
    expect((await onReplica.lrange('dp-q', 0, -1)).map(payloadOf)).toEqual([{ id: 1 }]);
    expect(await onReplica.zcard('{dp-q}:delayed')).toBe(1);
    expect((await onReplica.xrange('dp-s', '-', '+')).map(([entryId]) => entryId)).toEqual([id, ...ids]);
  });

  it('rejects with ReplicationNotConfirmedError when the replica is frozen, the write staying on the master', async () => {
    const client = app.get(BrokerClient);
    replica.pause();
    try {
      const enqueued = client.enqueue('dp-frozen', { id: 1 }, { replicas: 1, replicasTimeoutMs: 300 });
      await expect(enqueued).rejects.toThrow(ReplicationNotConfirmedError);
      await expect(enqueued).rejects.toThrow(/confirmed by 0 of 1 replica\(s\) within 300 ms/);
      await expect(enqueued).rejects.toMatchObject({ replicas: 1, confirmed: 0, timeoutMs: 300 });
      await expect(client.append('dp-frozen-s', { n: '1' }, { replicas: 1, replicasTimeoutMs: 300 })).rejects.toThrow(ReplicationNotConfirmedError);
      await expect(client.enqueue('dp-frozen', { id: 2 }, { replicas: 1, replicasTimeoutMs: 300, dedupKey: 'k' })).rejects.toThrow(ReplicationNotConfirmedError);
      expect((await onMaster.lrange('dp-frozen', 0, -1)).map(payloadOf)).toEqual([{ id: 2 }, { id: 1 }]);
      expect(await onMaster.xlen('dp-frozen-s')).toBe(1);
    } finally {
      replica.resume();
    }
    await waitFor(() => replicaInSync(onMaster), { description: 'the replica to catch up' });
  });

  it('keeps consuming and acking while a durable write waits for a frozen replica (WAIT has its own connection)', async () => {
    const client = app.get(BrokerClient);
    replica.pause();
    let settled = false;
    const durable = client.enqueue('dp-waiting', { id: 1 }, { replicas: 1, replicasTimeoutMs: 600_000 }).finally(() => (settled = true));
    try {
      await client.enqueue('dp-consumed', { id: 7 });
      await waitFor(() => handled.includes(7), { timeoutMs: 30_000, description: 'the plain message to be handled' });
      await waitFor(async () => (await onMaster.llen('dp-consumed')) === 0 && (await onMaster.keys('{dp-consumed}:processing:*')).length === 0, {
        timeoutMs: 30_000, description: 'its ack',
      });
      expect(settled).toBe(false);
    } finally {
      replica.resume();
    }
    expect(await durable).toEqual(expect.any(String));
  });

  it('keeps the module trimming of a stream when the append only asks for replicas', async () => {
    const client = app.get(BrokerClient);
    for (let n = 0; n < 400; n += 1) await client.append('dp-trimmed', { n: String(n) }, { replicas: 1 });
    expect(await onMaster.xlen('dp-trimmed')).toBeLessThan(400);
  });

  it('rejects (connectionLost) a write whose master restarted empty while its WAIT waited', async () => {
    const client = app.get(BrokerClient);
    replica.pause();
    const durable = client.enqueue('dp-lost', { id: 1 }, { replicas: 1, replicasTimeoutMs: 60_000 });
    durable.catch(() => undefined);
    await waitFor(async () => (await onMaster.llen('dp-lost')) === 1, { description: 'the write on the master' });
    // The write's reply sent (else ioredis re-sends the whole pipeline: the next test) and WAIT blocked.
    await waitFor(() => writerBlockedInWait(onMaster), { description: 'WAIT to block after the reply to the write' });
    // No persistence: the restarted master is empty and the replica resyncs to it. The write is gone,
    // so the cut WAIT must not count as a confirmation (nor be re-sent alone on the new connection).
    await master.kill();
    await master.start();
    replica.resume();
    await expect(durable).rejects.toMatchObject({ name: 'ReplicationNotConfirmedError', connectionLost: true });
    await expect(durable).rejects.toThrow(/connection closed before WAIT answered/);
    await waitFor(() => replicaInSync(onMaster), { timeoutMs: 30_000, description: 'the replica to resync' });
    expect(await onMaster.llen('dp-lost')).toBe(0);
  });

  it('confirms a write whose pipeline got no reply before its master restarted empty: re-sent whole, WAIT counts it', async () => {
    const client = app.get(BrokerClient);
    // Frozen, the master answers nothing: the write and its WAIT are both unanswered when it dies.
    master.pause();
    const durable = client.enqueue('dp-resent', { id: 1 }, { replicas: 1, replicasTimeoutMs: 60_000 });
    durable.catch(() => undefined);
    await master.kill();
    await master.start();
    // ioredis re-sends the unanswered pipeline on the new connection: the restarted master stores the
    // write, and the WAIT sent after it there counts the replica that resynced and copied it.
    const id = await durable;
    expect(id).toEqual(expect.any(String));
    await waitFor(() => replicaInSync(onMaster), { timeoutMs: 30_000, description: 'the replica to catch up' });
    for (const server of [onMaster, onReplica]) {
      expect((await server.lrange('dp-resent', 0, -1)).map((text) => (JSON.parse(text) as { id: string }).id)).toEqual([id]);
    }
  });

  it('refuses bad replication options, naming the option, before writing anything', async () => {
    const client = app.get(BrokerClient);
    await expect(client.enqueue('dp-bad', { id: 1 }, { replicas: -1 })).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(client.enqueue('dp-bad', { id: 1 }, { replicas: 1.5 })).rejects.toThrow(/"enqueue.replicas": got 1.5/);
    await expect(client.enqueue('dp-bad', { id: 1 }, { replicas: 1, replicasTimeoutMs: 0 })).rejects.toThrow(/"enqueue.replicasTimeoutMs": got 0/);
    await expect(client.enqueue('dp-bad', { id: 1 }, { replicasTimeoutMs: 100 })).rejects.toThrow(/"enqueue.replicasTimeoutMs".*only together with replicas/);
    await expect(client.append('dp-bad-s', { n: '1' }, { replicas: '1' as unknown as number })).rejects.toThrow(/"append.replicas": got "1"/);
    expect(await onMaster.exists('dp-bad', 'dp-bad-s')).toBe(0);
  });
});
