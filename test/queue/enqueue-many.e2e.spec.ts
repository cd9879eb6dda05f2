import { BrokerClient, EnqueueManyError } from 'nest-redis-broker';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

/** Five LPUSH chunks of 1000 messages of about 1 KiB. */
const payloads = Array.from({ length: 5_000 }, (_, id) => ({ id, pad: 'x'.repeat(1_000) }));

async function rejection(call: Promise<unknown>): Promise<EnqueueManyError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(EnqueueManyError);
  return error as EnqueueManyError;
}

describe('enqueueMany stores a whole batch or none of it', () => {
  const broker = useBrokerApp({ connection: { redis: { maxRetriesPerRequest: 1 } }, producerOnly: true }, [], {
    server: { args: ['--maxmemory-policy', 'noeviction'] },
  });
  let client: BrokerClient;

  beforeAll(() => {
    client = broker.app.get(BrokerClient);
  });

  it('stores nothing of a batch that reaches maxmemory part way, says so, and a retry stores each message once, in order', async () => {
    // Room for about two of the five chunks.
    const usedMemory = Number(/used_memory:(\d+)/.exec(await broker.plain.info('memory'))![1]);
    await broker.plain.config('SET', 'maxmemory', String(usedMemory + 2 * 1024 * 1024));

    try {
      const error = await rejection(client.enqueueMany('batch', payloads));
      expect(await broker.plain.llen('batch')).toBe(0);
      expect(error).toMatchObject({ queue: 'batch', count: 5_000, stored: 0 });
      expect(error.message).toMatch(/OOM|EXECABORT/);
      expect(error.message).toContain('None of its 5000 messages was stored');
    } finally {
      await broker.plain.config('SET', 'maxmemory', '0');
    }
    expect(await client.enqueueMany('batch', payloads)).toHaveLength(5_000);
    expect(await broker.plain.llen('batch')).toBe(5_000);
    // Consumers take from the right: the first payload first.
    expect(JSON.parse((await broker.plain.lindex('batch', -1))!)).toMatchObject({ p: { id: 0 } });
    expect(JSON.parse((await broker.plain.lindex('batch', 0))!)).toMatchObject({ p: { id: 4_999 } });
    await broker.plain.del('batch');
  });

  it('stores a long one-command batch byte for byte, in order, multi-byte text included', async () => {
    // About 170,000 characters in one LPUSH, which the producer encodes itself (PushEnvelopesCommand).
    const texts = Array.from({ length: 600 }, (_, id) => ({ id, text: `é漢🙂${id}`.repeat(40) }));
    const ids = await client.enqueueMany('long', texts);
    expect(ids).toHaveLength(600);
    const stored = (await broker.plain.lrange('long', 0, -1)).reverse();
    expect(stored).toHaveLength(600);
    stored.forEach((body, i) => expect(JSON.parse(body)).toMatchObject({ __nrb: 1, id: ids[i], p: texts[i] }));
    await broker.plain.del('long');
  });

  it('stores nothing when Redis refuses every command of the batch (WRONGTYPE)', async () => {
    await broker.plain.set('not-a-list', 'x');
    const error = await rejection(client.enqueueMany('not-a-list', payloads));
    expect(error).toMatchObject({ queue: 'not-a-list', count: 5_000, stored: 0 });
    expect(error.message).toContain('WRONGTYPE');
    expect(await broker.plain.get('not-a-list')).toBe('x');
  });

  it('says the outcome is unknown (all or none) when the connection fails', async () => {
    await broker.redis.kill();
    try {
      const error = await rejection(client.enqueueMany('batch', payloads.slice(0, 10)));
      expect(error).toMatchObject({ queue: 'batch', count: 10, stored: null });
      expect(error.message).toContain('Redis stored all 10 messages or none');
    } finally {
      await broker.redis.start();
    }
  });
});
