import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  DASHBOARD_ACTION_HEADER,
  InvalidBrokerOptionsError,
  RedisBrokerDashboardModule,
  RedisBrokerModule,
  StreamDeadLetterService,
} from 'nest-redis-broker';
import { freePort, startRedisServer, type RedisServerHandle } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/broker-app.js';

const DEAD = '{events}:dead:audit';
const REQUEUE = '{events}:requeue:audit';
// Not the first of its millisecond: a bare "1700000000000" means <ms>-0 to XDEL.
const DEAD_ID = '1700000000000-5';

describe('stream dead-letter ids', () => {
  let redis: RedisServerHandle;
  let app: INestApplication;
  let plain: Redis;
  let base: string;
  let dead: StreamDeadLetterService;

  beforeAll(async () => {
    redis = await startRedisServer();
    plain = new Redis(redis.url);
    @Module({ imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url }, producerOnly: true }), RedisBrokerDashboardModule.register({ public: true })] })
    class AppWithDashboard {}
    app = await NestFactory.create(AppWithDashboard, { logger: new CapturingLogger() });
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}/broker`;
    dead = app.get(StreamDeadLetterService);
  });

  beforeEach(async () => {
    await plain.del(DEAD, REQUEUE);
    // A dead entry as the broker's dead-letter script writes it.
    await plain.xadd(DEAD, DEAD_ID, 'originalId', '1699999999999-0', 'stream', 'events', 'group', 'audit', 'consumer', 'c1',
      'reason', 'max-deliveries', 'error', 'boom', 'deliveries', '3', 'handler', 'Audit@handle', 'failedAt', '1700000000000',
      'fields', JSON.stringify(['kind', 'login']));
  });

  afterAll(async () => {
    await app?.close();
    plain?.disconnect();
    await redis?.stop();
  });

  it('refuses an id without its sequence number or malformed, requeueing nothing', async () => {
    for (const id of ['1700000000000', 'abc', '1-2-3', '18446744073709551616-0', '']) {
      await expect(dead.requeue('events', 'audit', id)).rejects.toThrow(InvalidBrokerOptionsError);
      await expect(dead.get('events', 'audit', id)).rejects.toThrow(/a stream entry id is "<ms>-<seq>"/);
    }
    await expect(dead.list('events', 'audit', { before: '1700000000000' })).rejects.toThrow(InvalidBrokerOptionsError);
    expect(await plain.xlen(REQUEUE)).toBe(0);
    expect(await plain.xlen(DEAD)).toBe(1);
  });

  it('requeues a dead entry exactly once, removing it from the dead-letter stream', async () => {
    expect(await dead.requeue('events', 'audit', DEAD_ID)).toBe(true);
    expect(await dead.requeue('events', 'audit', DEAD_ID)).toBe(false);
    expect(await plain.xlen(DEAD)).toBe(0);
    const requeued = await plain.xrange(REQUEUE, '-', '+');
    expect(requeued.map(([, fields]) => fields)).toEqual([['kind', 'login']]);
  });

  it('answers 400 on the dashboard for an id without its sequence number or malformed, and requeues once with the full id', async () => {
    const requeue = (id: string): Promise<Response> =>
      fetch(`${base}/api/streams/events/groups/audit/dead/${encodeURIComponent(id)}/requeue`, { method: 'POST', headers: { [DASHBOARD_ACTION_HEADER]: '1' } });
    for (const id of ['1700000000000', 'not-an-id', '99999999999999999999-0']) {
      const answer = await requeue(id);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { message: string }).message).toContain('stream entry id');
    }
    expect(await plain.xlen(REQUEUE)).toBe(0);
    expect((await requeue(DEAD_ID)).status).toBe(200);
    expect((await requeue(DEAD_ID)).status).toBe(404);
    expect(await plain.xlen(REQUEUE)).toBe(1);
  });
});
