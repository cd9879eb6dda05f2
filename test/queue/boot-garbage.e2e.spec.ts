import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { QueueHandler, type RedisBrokerModuleOptions } from 'nest-redis-broker';
import { RedisBrokerServer, type RedisBrokerServerOptions } from 'nest-redis-broker/microservices';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

@Injectable()
class BootHandlers {
  @QueueHandler('boot-garbage')
  handle(): void {}
}

@Controller()
class BootEvents {
  @EventPattern('boot.garbage')
  handle(_event: unknown): void {}
}

@Module({ controllers: [BootEvents] })
class BootEventsModule {}

/** A broker app, or with `server` a Nest microservice on RedisBrokerServer, booted and closed. */
async function bootAndClose(options: RedisBrokerModuleOptions | { server: RedisBrokerServerOptions }): Promise<void> {
  if ('server' in options) {
    const app = await NestFactory.createMicroservice(BootEventsModule, { strategy: new RedisBrokerServer(options.server), logger: false });
    await app.listen();
    await app.close();
    return;
  }
  const { app } = await bootBroker(options, [BootHandlers]);
  await app.close();
}

/** Boots and closes an app with `options`; returns the forced full collections V8 reported meanwhile. */
async function forcedFullCollections(options: Parameters<typeof bootAndClose>[0]): Promise<number> {
  let forced = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind, flags } = (entry as unknown as { detail: { kind: number; flags: number } }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR && (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) forced += 1;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await bootAndClose(options);
    // GC entries are delivered asynchronously.
    await sleep(50);
    return forced;
  } finally {
    observer.disconnect();
  }
}

describe('the garbage collection after boot (collectBootGarbage)', () => {
  const ctx = useRedis();

  it('runs one full collection in an app that consumes, by default', async () => {
    expect(await forcedFullCollections({ connection: { url: ctx.redis.url } })).toBe(1);
  });

  it('runs none when turned off, nor in a producer-only app', async () => {
    expect(await forcedFullCollections({ connection: { url: ctx.redis.url }, collectBootGarbage: false })).toBe(0);
    expect(await forcedFullCollections({ connection: { url: ctx.redis.url }, producerOnly: true })).toBe(0);
  });

  it('runs one in a RedisBrokerServer that consumes, none when turned off', async () => {
    const server = { connection: { url: ctx.redis.url } };
    expect(await forcedFullCollections({ server })).toBe(1);
    expect(await forcedFullCollections({ server: { ...server, collectBootGarbage: false } })).toBe(0);
  });

  it('leaves no gc function to later contexts', async () => {
    await forcedFullCollections({ connection: { url: ctx.redis.url } });
    const exposedAtStart = typeof (globalThis as { gc?: unknown }).gc === 'function';
    expect(runInNewContext('typeof gc')).toBe(exposedAtStart ? 'function' : 'undefined');
  });
});
