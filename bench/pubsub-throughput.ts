/**
 * Rough pub/sub throughput: messages per second reaching a bare ioredis
 * subscriber versus an `@OnChannel` handler, same Redis, same publisher
 * (pipelined slices of PUBLISH from this process). The buffer is as big as
 * the run, so nothing is dropped and every variant handles every message. Run:
 *   node --conditions=nest-redis-broker-source --import @swc-node/register/esm-register bench/pubsub-throughput.ts
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { ChannelSubscriptionService, OnChannel, RedisBrokerModule } from 'nest-redis-broker';
import { startRedisServer } from 'nest-redis-broker/testing';

const MESSAGES = Number(process.env.MESSAGES ?? 200_000);
const SLICE = 1_000;
let received = 0;
let onDone: () => void = () => undefined;

function count(): void {
  received += 1;
  if (received === MESSAGES) onDone();
}

@Injectable()
class CountingListener {
  @OnChannel('bench')
  handle(_payload: unknown): void {
    count();
  }
}

async function publishAndTime(url: string): Promise<number> {
  const publisher = new Redis(url);
  received = 0;
  const done = new Promise<void>((resolve) => (onDone = resolve));
  const started = performance.now();
  for (let start = 0; start < MESSAGES; start += SLICE) {
    const pipeline = publisher.pipeline();
    for (let i = start; i < start + SLICE; i += 1) pipeline.publish('bench', `{"i":${i}}`);
    await pipeline.exec();
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  publisher.disconnect();
  return MESSAGES / seconds;
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  try {
    const bare = new Redis(redis.url);
    bare.on('message', (_channel: string, message: string) => {
      JSON.parse(message);
      count();
    });
    await bare.subscribe('bench');
    const bareRate = await publishAndTime(redis.url);
    bare.disconnect();

    @Module({ imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url }, channelDefaults: { bufferSize: MESSAGES } })], providers: [CountingListener] })
    class BenchModule {}
    const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
    const brokerRate = await publishAndTime(redis.url);
    const dropped = app.get(ChannelSubscriptionService).stats().reduce((n, s) => n + s.dropped, 0);
    await app.close();

    @Module({ imports: [RedisBrokerModule.forRoot({ connection: { url: redis.url }, channelDefaults: { bufferSize: MESSAGES } })] })
    class RuntimeModule {}
    const runtimeApp = await NestFactory.createApplicationContext(RuntimeModule, { logger: false });
    await runtimeApp.get(ChannelSubscriptionService).subscribe('bench', count);
    const runtimeRate = await publishAndTime(redis.url);
    await runtimeApp.close();

    console.log(`bare ioredis subscriber (JSON.parse + count): ${Math.round(bareRate)} msg/s`);
    console.log(`@OnChannel handler (auto parse, Nest pipeline): ${Math.round(brokerRate)} msg/s`);
    console.log(`runtime listener (auto parse, no Nest pipeline): ${Math.round(runtimeRate)} msg/s`);
    console.log(`ratio @OnChannel/bare: ${((brokerRate / bareRate) * 100).toFixed(1)} %, runtime/bare: ${((runtimeRate / bareRate) * 100).toFixed(1)} %`);
    if (dropped > 0) console.log(`(@OnChannel dropped ${dropped} message(s): the handler fell a whole buffer behind)`);
  } finally {
    await redis.stop();
  }
}

await main();
