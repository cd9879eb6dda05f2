import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { BrokerClient, QueueHandler, RequestTimeoutError } from 'nest-redis-broker';
import { startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';

@Injectable()
class EchoHandler {
  @QueueHandler('outage-echo', { blockTimeoutMs: 100 })
  echo(payload: string): string {
    return `echo ${payload}`;
  }
}

describe('request-reply while Redis is down and back', () => {
  let server: RedisServerHandle;
  let requester: INestApplicationContext;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    server = await startRedisServer({ appendOnly: true });
    ({ app: requester } = await bootBroker({ connection: { url: server.url }, producerOnly: true }, []));
    ({ app: worker } = await bootBroker({ connection: { url: server.url } }, [EchoHandler]));
  });

  afterAll(async () => {
    await requester?.close();
    await worker?.close();
    await server?.stop();
  });

  it('still times a request out while Redis is down, and answers again once it is back', async () => {
    const client = requester.get(BrokerClient);
    await expect(client.request('outage-echo', 'before')).resolves.toBe('echo before');
    const plain = new Redis(server.url);
    const stranded = client.request('no-consumer', 'x', { timeoutMs: 1_500 }).catch((error: unknown) => error);
    await waitFor(async () => (await plain.llen('no-consumer')) === 1, { description: 'the request to be stored' });
    plain.disconnect();
    await server.kill();
    // The timer fires with Redis gone: no reply can come, and none is needed to end the wait.
    expect(await stranded).toBeInstanceOf(RequestTimeoutError);
    await server.start();
    await expect(client.request('outage-echo', 'after', { timeoutMs: 20_000 })).resolves.toBe('echo after');
  });
});
