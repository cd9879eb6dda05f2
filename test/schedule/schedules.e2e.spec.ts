import { Injectable, type INestApplicationContext } from '@nestjs/common';
import {
  Ctx,
  InvalidBrokerOptionsError,
  QueueKeys,
  ScheduleKeys,
  Scheduled,
  SchedulerService,
  type QueueMessageContext,
} from 'nest-redis-broker';
import { freePort, waitFor } from 'nest-redis-broker/testing';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

const TICK_HEADER = 'nrb-tick';

async function redisNow(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** The tick times of the messages waiting on a list queue, oldest first. */
async function queuedTicks(redis: Redis, queue: string): Promise<number[]> {
  const bodies = await redis.lrange(queue, 0, -1);
  return bodies.reverse().map((body) => Number((JSON.parse(body) as { h: Record<string, string> }).h[TICK_HEADER]));
}

const failures: string[] = [];

@Injectable()
class FailingTick {
  @Scheduled('fails', { every: 100, limit: 1, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: false } })
  run(@Ctx() ctx: QueueMessageContext): void {
    failures.push(`${ctx.id}#${ctx.attempt}`);
    throw new Error('tick failed');
  }
}

@Injectable()
class BadCron {
  @Scheduled('bad', { cron: '99 * * * *' })
  run(): void {}
}

@Injectable()
class BothTimings {
  @Scheduled('both', { cron: '* * * * *', every: 1_000 })
  run(): void {}
}

describe('SchedulerService and @Scheduled', () => {
  const ctx = useRedis();
  const apps: INestApplicationContext[] = [];

  async function boot(options: { producerOnly?: boolean } = {}, providers: (typeof FailingTick)[] = []): Promise<SchedulerService> {
    const { app } = await bootBroker({ connection: { url: ctx.redis.url }, ...options }, providers);
    apps.push(app);
    return app.get(SchedulerService);
  }

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('keeps one schedule, its next run not reset, when two replicas upsert the same definition', async () => {
    const first = await boot({ producerOnly: true });
    const second = await boot({ producerOnly: true });
    const timing = { cron: '0 3 * * *', timeZone: 'Europe/Berlin' };
    expect(await first.schedule('nightly', timing, { queue: 'reports' }, { kind: 'nightly' })).toBe('created');
    const [before] = await first.schedules();
    expect(await second.schedule('nightly', timing, { queue: 'reports' }, { kind: 'nightly' })).toBe('unchanged');
    expect(await second.schedules()).toEqual([before]);
    expect(before).toMatchObject({ id: 'nightly', target: { queue: 'reports' }, payload: { kind: 'nightly' }, runs: 0, lastRunAt: null });
    expect(new Date(before.nextRunAt ?? 0).toLocaleString('en-GB', { timeZone: 'Europe/Berlin', timeStyle: 'short' })).toBe('03:00');
    expect(await second.schedule('nightly', { ...timing, cron: '0 4 * * *' }, { queue: 'reports' })).toBe('changed');
    expect(await first.schedules()).toHaveLength(1);
  });

  it('has a replica that booted with no schedule take over one created at run time by a replica that then stopped', async () => {
    // Booted while Redis holds no schedule, with none of its own: it only checks now and then.
    await boot();
    const creator = await boot();
    await creator.schedule('handed-over', { every: 200 }, { queue: 'handed-over' });
    await waitFor(async () => (await ctx.plain.llen('handed-over')) >= 2, { description: '2 ticks from the creator' });
    const creatorApp = apps.splice(1, 1)[0];
    await creatorApp.close();
    const left = await ctx.plain.llen('handed-over');
    // The other replica finds the schedule within idleCheckMs (5 s) and fires its ticks: the missed ones once (fire-once), then on the period.
    await waitFor(async () => (await ctx.plain.llen('handed-over')) >= left + 3, { description: 'ticks after the creator stopped', timeoutMs: 15_000 });
  }, 30_000);

  it('closes an app whose Redis is unreachable, with a @Scheduled method or with none, instead of waiting on it', async () => {
    const port = await freePort();
    for (const providers of [[FailingTick], []]) {
      // Nothing listens on the port: the schedule's upsert (or the idle check) waits on a connection that never comes.
      const { app } = await bootBroker({ connection: { url: `redis://127.0.0.1:${port}` }, shutdownTimeoutMs: 200 }, providers);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const closed = await Promise.race([
        app.close().then(() => 'closed'),
        new Promise((resolve) => setTimeout(resolve, 20_000, 'still waiting after 20 s')),
      ]);
      expect(closed).toBe('closed');
    }
  }, 60_000);

  it('stops sending ticks once unscheduled', async () => {
    const scheduler = await boot();
    await scheduler.schedule('stopping', { every: 100 }, { queue: 'stopping' });
    await waitFor(async () => (await ctx.plain.llen('stopping')) >= 3, { description: '3 ticks' });
    expect(await scheduler.unschedule('stopping')).toBe(true);
    expect(await scheduler.unschedule('stopping')).toBe(false);
    // A tick claimed just before the removal may still land: counted once 3 ticks of another schedule came.
    await scheduler.schedule('probe', { every: 100 }, { queue: 'probe' });
    await waitFor(async () => (await ctx.plain.llen('probe')) >= 3, { description: '3 probe ticks' });
    const left = await ctx.plain.llen('stopping');
    // Pollers that go on working for 5 more ticks of the other schedule send none of the removed one.
    await waitFor(async () => (await ctx.plain.llen('probe')) >= 8, { description: '8 probe ticks' });
    expect(await ctx.plain.llen('stopping')).toBe(left);
    expect((await scheduler.schedules()).map((s) => s.id)).toEqual(['probe']);
  });

  it('fires a run of missed ticks once with fire-once, not at all with skip, then resumes on the period', async () => {
    const offline = await boot({ producerOnly: true });
    const timing = { every: 300, misfireGraceMs: 100 };
    await offline.schedule('once', { ...timing, misfire: 'fire-once' }, { queue: 'once' });
    await offline.schedule('skip', { ...timing, misfire: 'skip' }, { queue: 'skip' });
    const missedFrom = (await offline.schedules())[0].nextRunAt ?? 0;
    // No process polls: wait (on the Redis clock) until at least three ticks are missed.
    await waitFor(async () => (await redisNow(ctx.plain)) > missedFrom + 3 * 300 + 100, { description: 'three missed ticks' });
    const resumedAt = await redisNow(ctx.plain);
    await boot();
    await waitFor(async () => (await queuedTicks(ctx.plain, 'once')).filter((t) => t > resumedAt).length >= 2
      && (await queuedTicks(ctx.plain, 'skip')).filter((t) => t > resumedAt).length >= 2, { description: 'two ticks of each after the return' });
    const once = await queuedTicks(ctx.plain, 'once');
    const skip = await queuedTicks(ctx.plain, 'skip');
    expect(once.filter((t) => t < resumedAt)).toEqual([missedFrom]);
    expect(skip.filter((t) => t < resumedAt)).toEqual([]);
    for (const ticks of [once.filter((t) => t > resumedAt), skip.filter((t) => t > resumedAt)]) {
      expect(ticks[1] - ticks[0]).toBe(300);
    }
  });

  it('ends a schedule after its limit of runs', async () => {
    const scheduler = await boot();
    await scheduler.schedule('three', { every: 100, limit: 3 }, { queue: 'three' });
    await waitFor(async () => (await scheduler.schedules())[0]?.nextRunAt === null, { description: 'the schedule to end' });
    const [info] = await scheduler.schedules();
    expect(info).toMatchObject({ runs: 3, nextRunAt: null });
    expect(await queuedTicks(ctx.plain, 'three')).toHaveLength(3);
    expect(await ctx.plain.zscore(new ScheduleKeys('').index, 'three')).toBeNull();
  });

  it('appends ticks to a stream as the payload fields plus the schedule headers', async () => {
    const scheduler = await boot();
    await scheduler.schedule('to-stream', { every: 100, limit: 2 }, { stream: 'events' }, { kind: 'tick', n: 1 });
    await waitFor(async () => (await ctx.plain.xlen('events')) === 2, { description: 'two entries' });
    const [[, fields]] = await ctx.plain.xrange('events', '-', '+', 'COUNT', 1);
    expect(fields.slice(0, 4)).toEqual(['kind', 'tick', 'n', '1']);
    expect(fields.slice(4, 6)).toEqual(['__nrb.h.nrb-schedule', 'to-stream']);
    expect(fields[6]).toBe('__nrb.h.nrb-tick');
  });

  it('delivers a tick left in the outbox by a process that died after its claim, once however often it is delivered', async () => {
    const offline = await boot({ producerOnly: true });
    // Its own first tick an hour ahead: only the orphan tick may reach the queue during the test
    // (with ticks on whole minutes, a test that crossed one saw the schedule's own tick as well).
    await offline.schedule('orphan', { every: 1_000, startAt: Date.now() + 3_600_000 }, { queue: 'orphan' }, 'x');
    const keys = new ScheduleKeys('');
    // What a claim leaves when its process dies before delivering: the tick in the outbox, claimed long ago.
    await ctx.plain.zadd(keys.outbox, 1, '120000 orphan');
    await boot();
    await waitFor(async () => (await ctx.plain.zcard(keys.outbox)) === 0, { description: 'the outbox to drain' });
    // Delivered again (a second process found it before the first removed it): the queue drops it.
    await ctx.plain.zadd(keys.outbox, 1, '120000 orphan');
    await waitFor(async () => (await ctx.plain.zcard(keys.outbox)) === 0, { description: 'the outbox to drain again' });
    expect(await queuedTicks(ctx.plain, 'orphan')).toEqual([120000]);
    const [body] = await ctx.plain.lrange('orphan', 0, -1);
    expect(JSON.parse(body)).toMatchObject({ __nrb: 1, id: 'orphan@120000', p: 'x' });
    expect(await ctx.plain.zcard(new QueueKeys('orphan', '').scheduleTicks('orphan'))).toBe(1);
  });

  it('keeps a tick whose target cannot be written in the outbox, and goes on with the other schedules', async () => {
    await ctx.plain.set('broken', 'not a list'); // LPUSH fails: WRONGTYPE
    const scheduler = await boot();
    await scheduler.schedule('to-broken', { every: 100, limit: 1 }, { queue: 'broken' });
    await scheduler.schedule('to-fine', { every: 100, limit: 3 }, { queue: 'fine' });
    await waitFor(async () => (await ctx.plain.llen('fine')) === 3, { description: 'the other schedule to run' });
    const keys = new ScheduleKeys('');
    const [member] = await ctx.plain.zrange(keys.outbox, '0', '-1');
    expect(member).toMatch(/^\d+ to-broken$/);
    // Once the target can be written, the stale tick is delivered from the outbox.
    await ctx.plain.del('broken');
    await waitFor(async () => (await ctx.plain.llen('broken')) === 1 && (await ctx.plain.zcard(keys.outbox)) === 0, { description: 'the late delivery' });
  });

  it('runs a failing @Scheduled tick through retries into the dead letters, as a queue handler', async () => {
    await boot({}, [FailingTick]);
    const keys = new QueueKeys('nrb:scheduled:fails', '');
    await waitFor(async () => (await ctx.plain.zcard(keys.deadIndex)) === 1, { description: 'one dead letter' });
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/^fails@\d+#1$/);
    expect(failures[1]).toBe(failures[0].replace('#1', '#2'));
  });

  it('fails bootstrap on a bad @Scheduled definition, naming the method and the option', async () => {
    await expect(boot({}, [BadCron])).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(boot({}, [BadCron])).rejects.toThrow(/BadCron@run.*"Scheduled\.cron".*99 \* \* \* \*/);
    await expect(boot({}, [BothTimings])).rejects.toThrow(/BothTimings@run.*exactly one of cron or every/);
  });
});
