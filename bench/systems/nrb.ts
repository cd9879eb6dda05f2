// nest-redis-broker through its public API: a Nest application context with
// a decorated handler consumes; another with `producerOnly` produces through
// `BrokerClient`.
import { Injectable, Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerClient, OnChannel, Payload, QueueHandler, RedisBrokerModule, StreamConsumer } from 'nest-redis-broker';
import type { RunningConsumer } from '../child.js';
import type { Producer } from '../producer-driver.js';
import { benchFields, type BenchMessage, type ChildConfig } from '../protocol.js';
import type { Recorder } from '../recorder.js';
import { prepareTracing } from './nrb-tracing.js';
import { BENCH_BATCH_SIZE } from '../scenarios.js';

const GROUP = 'bench';

function handlerFor(config: ChildConfig, recorder: Recorder): Provider {
  const { system, target, concurrency, handlerMs } = config;
  if (system === 'nrb-stream' && handlerMs > 0) {
    @Injectable()
    class StreamIoHandler {
      @StreamConsumer({ stream: target, group: GROUP, concurrency })
      async handle(@Payload() fields: Record<string, string>): Promise<void> {
        recorder.begin();
        await sleep(handlerMs);
        recorder.record(Number(fields.ts));
      }
    }
    return StreamIoHandler;
  }
  if ((system === 'nrb-reliable' || system === 'nrb-fast') && handlerMs > 0) {
    @Injectable()
    class QueueIoHandler {
      @QueueHandler(target, { mode: system === 'nrb-fast' ? 'fast' : 'reliable', concurrency })
      async handle(@Payload() message: BenchMessage): Promise<void> {
        recorder.begin();
        await sleep(handlerMs);
        recorder.record(message.ts);
      }
    }
    return QueueIoHandler;
  }
  if (system === 'nrb-stream') {
    @Injectable()
    class StreamBenchHandler {
      @StreamConsumer({ stream: target, group: GROUP, concurrency })
      handle(@Payload() fields: Record<string, string>): void {
        recorder.record(Number(fields.ts));
      }
    }
    return StreamBenchHandler;
  }
  if (system === 'nrb-batch-list' || system === 'nrb-batch-list-fast') {
    @Injectable()
    class QueueBatchBenchHandler {
      @QueueHandler(target, { mode: system === 'nrb-batch-list-fast' ? 'fast' : 'reliable', batch: { size: BENCH_BATCH_SIZE }, concurrency })
      handle(@Payload() messages: BenchMessage[]): void {
        for (const message of messages) recorder.record(message.ts);
      }
    }
    return QueueBatchBenchHandler;
  }
  if (system === 'nrb-batch-stream') {
    @Injectable()
    class StreamBatchBenchHandler {
      @StreamConsumer({ stream: target, group: GROUP, batch: { size: BENCH_BATCH_SIZE }, concurrency })
      handle(@Payload() entries: Record<string, string>[]): void {
        for (const fields of entries) recorder.record(Number(fields.ts));
      }
    }
    return StreamBatchBenchHandler;
  }
  if (system === 'nrb-pubsub') {
    @Injectable()
    class ChannelBenchHandler {
      // A buffer as large as the run: the comparison is dispatch speed, not the drop policy.
      @OnChannel(target, { bufferSize: Math.max(10_000, config.count) })
      handle(@Payload() message: BenchMessage): void {
        recorder.record(message.ts);
      }
    }
    return ChannelBenchHandler;
  }
  if (system === 'nrb-reliable' || system === 'nrb-fast' || system.startsWith('nrb-otel-')) {
    @Injectable()
    class QueueBenchHandler {
      @QueueHandler(target, { mode: system === 'nrb-fast' ? 'fast' : 'reliable', concurrency })
      handle(@Payload() message: BenchMessage): void {
        recorder.record(message.ts);
      }
    }
    return QueueBenchHandler;
  }
  throw new Error(`nest-redis-broker has no consumer for ${system} in this build`);
}

async function boot(config: ChildConfig, providers: Provider[], producerOnly: boolean): Promise<INestApplicationContext> {
  @Module({
    imports: [RedisBrokerModule.forRoot({ connection: { url: config.redisUrl }, producerOnly, shutdownTimeoutMs: 5_000 })],
    providers,
  })
  class BenchModule {}
  return NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
}

export async function startConsumer(config: ChildConfig, recorder: Recorder): Promise<RunningConsumer> {
  prepareTracing(config.system);
  const app = await boot(config, [handlerFor(config, recorder)], false);
  return { stop: () => app.close() };
}

export async function createProducer(config: ChildConfig): Promise<Producer> {
  prepareTracing(config.system);
  const app = await boot(config, [], true);
  const client = app.get(BrokerClient);
  const { target } = config;
  if (config.system === 'nrb-stream' || config.system === 'nrb-batch-stream') {
    return {
      sendBatch: async (messages) => {
        await client.appendMany(target, messages.map(benchFields));
      },
      sendOne: async (message) => {
        await client.append(target, benchFields(message));
      },
      close: () => app.close(),
    };
  }
  if (config.system === 'nrb-pubsub') {
    return {
      sendBatch: async (messages) => {
        await client.publishMany(target, messages);
      },
      sendOne: async (message) => {
        await client.publish(target, message);
      },
      close: () => app.close(),
    };
  }
  return {
    sendBatch: async (messages) => {
      await client.enqueueMany(target, messages);
    },
    sendOne: async (message) => {
      await client.enqueue(target, message);
    },
    close: () => app.close(),
  };
}
