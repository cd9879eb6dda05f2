import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  InvalidBrokerOptionsError,
  OnChannel,
  QueueHandler,
  RedisBrokerModule,
  StreamConsumer,
  type RedisBrokerModuleOptions,
} from 'nest-redis-broker';
import { RedisBrokerMetricsModule } from 'nest-redis-broker/observability';
import { describe, expect, it } from 'vitest';
import { bootBroker, CapturingLogger } from '../support/broker-app.js';

// Bad options fail the boot before any connection is made: these tests need no Redis, and point the
// broker at a port where none listens (a boot that got past validation would fail differently).
const NO_REDIS = 'redis://127.0.0.1:1';
const PASSWORD = 'unit-Secret-Pa55';

describe('option validation at boot (no Redis needed)', () => {
  it.each([
    [{ shutdownTimeoutMs: -1 }, 'shutdownTimeoutMs'],
    [{ queueDefaults: { mode: 'turbo' } }, 'queueDefaults.mode'],
    [{ connection: { url: 'http://localhost' } }, 'connection.url'],
    [{ keyPrefix: 'a{b}' }, 'keyPrefix'],
    [{ concurrency: 3 }, 'concurrency'],
  ])('fails the boot on a bad module option %j, naming it', async (options, name) => {
    const error: unknown = await bootBroker({ connection: { url: NO_REDIS }, ...(options as object) }, []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
    expect((error as Error).message).toContain(`"${name}"`);
  });

  it('fails the boot on a bad handler option, naming the handler and the option', async () => {
    @Injectable()
    class BadHandler {
      @QueueHandler('x', { concurrency: 0 })
      handle(): void {}
    }
    const boot = bootBroker({ connection: { url: NO_REDIS } }, [BadHandler]);
    await expect(boot).rejects.toBeInstanceOf(InvalidBrokerOptionsError);
    await expect(boot).rejects.toThrow('BadHandler@handle.concurrency');
  });

  it('rejects a queue name that would break the key layout', async () => {
    @Injectable()
    class BadName {
      @QueueHandler('a{b}')
      handle(): void {}
    }
    await expect(bootBroker({ connection: { url: NO_REDIS } }, [BadName])).rejects.toThrow(/Invalid queue name "a\{b\}"/);
  });

  it('rejects an unknown stream consumer option at boot, naming it', async () => {
    @Injectable()
    class Misconfigured {
      @StreamConsumer({ stream: 's', group: 'g', maxAttempts: 3 } as never)
      handle(): void {}
    }
    const boot = bootBroker({ connection: { url: NO_REDIS } }, [Misconfigured]);
    await expect(boot).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(boot).rejects.toThrow(/Misconfigured@handle\.maxAttempts/);
  });

  it('fails to boot an app whose @OnChannel options are invalid, naming the handler and the option', async () => {
    @Injectable()
    class MisconfiguredListener {
      @OnChannel({ pattern: 'a.*', bufferSize: -1 })
      handle(): void {}
    }
    await expect(bootBroker({ connection: { url: NO_REDIS } }, [MisconfiguredListener])).rejects.toThrow(
      /MisconfiguredListener@handle.*bufferSize/s,
    );
  });

  it('fails the boot on a handler whose stream or group name could escape its hash tag', async () => {
    @Injectable()
    class BadGroup {
      @StreamConsumer({ stream: 'events', group: 'g}x' })
      handle(): void {}
    }
    await expect(bootBroker({ connection: { url: NO_REDIS } }, [BadGroup])).rejects.toThrow(/Invalid group name "g\}x"/);
    for (const keyPrefix of ['{app}:', 'with space:', 'x'.repeat(65)]) {
      await expect(bootBroker({ connection: { url: NO_REDIS }, keyPrefix }, [])).rejects.toThrow(/keyPrefix/);
    }
  });

  it('does not echo credentials in option errors', async () => {
    const attempts: RedisBrokerModuleOptions[] = [
      { connection: { url: `http://app:${PASSWORD}@127.0.0.1:6379` } },
      { connection: { redis: `redis://app:${PASSWORD}@127.0.0.1:6379` as never } },
      { connection: { cluster: `redis://app:${PASSWORD}@127.0.0.1:6379` as never } },
    ];
    for (const options of attempts) {
      const boot = bootBroker(options, []);
      await expect(boot).rejects.toThrow(InvalidBrokerOptionsError);
      await expect(boot).rejects.not.toThrow(PASSWORD);
    }
  });

  it('fails the boot when the async factory returns a bad option', async () => {
    @Module({
      imports: [RedisBrokerModule.forRootAsync({ useFactory: () => ({ connection: { url: NO_REDIS }, delayedPollMs: 0 }) })],
    })
    class BadAsyncModule {}
    await expect(NestFactory.createApplicationContext(BadAsyncModule, { logger: new CapturingLogger(), abortOnError: false })).rejects.toThrow(
      /"delayedPollMs": got 0/,
    );
  });

  it('refuses an idleConsumerTtlMs not above blockTimeoutMs, naming it', async () => {
    const boot = bootBroker({ connection: { url: NO_REDIS }, streamDefaults: { blockTimeoutMs: 2_000, idleConsumerTtlMs: 2_000 } }, []);
    await expect(boot).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(boot).rejects.toThrow(/streamDefaults\.idleConsumerTtlMs.*greater than blockTimeoutMs/);
  });

  it('fails to boot with a stream maxMessageBytes that is not a positive whole number, naming it', async () => {
    @Injectable()
    class Misconfigured {
      @StreamConsumer({ stream: 'uploads', group: 'other', maxMessageBytes: 0 })
      scan(): void {}
    }
    const boot = bootBroker({ connection: { url: NO_REDIS } }, [Misconfigured]);
    await expect(boot).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(boot).rejects.toThrow(/Misconfigured@scan.*maxMessageBytes/s);
    await expect(bootBroker({ connection: { url: NO_REDIS }, streamDefaults: { maxMessageBytes: -5 } }, [])).rejects.toThrow(
      /streamDefaults\.maxMessageBytes/,
    );
  });

  it('rejects unknown or invalid metrics options at startup, naming the option', () => {
    expect(() => RedisBrokerMetricsModule.forRoot({ prefix: '1bad' })).toThrow(InvalidBrokerOptionsError);
    expect(() => RedisBrokerMetricsModule.forRoot({ durationBuckets: [1, 0.5] })).toThrow(/metrics\.durationBuckets/);
    expect(() => RedisBrokerMetricsModule.forRoot({ queue: ['x'] } as never)).toThrow(/metrics\.queue/);
  });
});
