import type { DynamicModule, INestApplicationContext, Provider, Type } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisBrokerModuleOptions } from 'nest-redis-broker';
import { startRedisServer, type RedisServerHandle, type RedisServerOptions } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { bootBroker, type CapturingLogger } from './broker-app.js';

// The setup most e2e files share: one redis-server per file, a plain client on it,
// and often one broker app on it. Call these inside `describe` and read the returned
// object in tests (its fields are set once the file's `beforeAll` hooks have run).
// Vitest runs `afterAll` hooks in reverse order, so a file's own `afterAll`
// (releasing a gated handler, say) runs before the app closes and Redis stops.

export interface FileRedis {
  readonly redis: RedisServerHandle;
  /** A client of its own: errors are ignored, since some tests stop or kill Redis. */
  readonly plain: Redis;
}

export interface FileRedisOptions {
  /** Empty Redis (`FLUSHALL`) before each test. Default true. */
  flushBeforeEach?: boolean;
  /** Options of the plain client. */
  client?: RedisOptions;
}

/** A redis-server for the whole file and a plain client on it, stopped after the file. */
export function useRedis(server: RedisServerOptions = {}, { flushBeforeEach = true, client = {} }: FileRedisOptions = {}): FileRedis {
  const state = {} as { redis: RedisServerHandle; plain: Redis };
  beforeAll(async () => {
    state.redis = await startRedisServer(server);
    state.plain = new Redis(state.redis.url, client);
    state.plain.on('error', () => undefined);
  });
  if (flushBeforeEach) {
    beforeEach(async () => {
      await state.plain.flushall();
    });
  }
  afterAll(async () => {
    state.plain?.disconnect();
    await state.redis?.stop();
  });
  return state;
}

export interface BrokerApp extends FileRedis {
  readonly app: INestApplicationContext;
  readonly logger: CapturingLogger;
}

export interface BrokerAppSetup {
  /** Options of the file's redis-server. */
  server?: RedisServerOptions;
  /** Options of the plain client. */
  client?: RedisOptions;
  /** Modules the app imports besides the broker (health, metrics...). */
  imports?: (Type | DynamicModule)[];
  /** Runs once Redis is up and before the app boots: a backlog, a server setting... */
  beforeBoot?: (ctx: FileRedis) => Promise<unknown>;
}

/**
 * A redis-server for the whole file (not emptied between tests: the app's
 * state carries over, as in production) and one broker app on it with
 * `providers`, booted once and closed after the file. `options.connection`
 * is completed with the server's URL.
 */
export function useBrokerApp(options: RedisBrokerModuleOptions, providers: Provider[], setup: BrokerAppSetup = {}): BrokerApp {
  const redis = useRedis(setup.server, { flushBeforeEach: false, client: setup.client });
  const state = {} as { app: INestApplicationContext; logger: CapturingLogger };
  beforeAll(async () => {
    await setup.beforeBoot?.(redis);
    const connection = { ...options.connection, url: redis.redis.url };
    Object.assign(state, await bootBroker({ ...options, connection }, providers, { imports: setup.imports }));
  });
  afterAll(async () => {
    await state.app?.close();
  });
  return {
    get redis() {
      return redis.redis;
    },
    get plain() {
      return redis.plain;
    },
    get app() {
      return state.app;
    },
    get logger() {
      return state.logger;
    },
  };
}
