// The app scripts/install-test.mjs compiles in a fresh project against the
// packed tarball (strict, nodenext) and runs against a real Redis: a user's
// first app, through the three public entry points. Exits non-zero on failure.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BrokerClient, Ctx, Payload, QueueHandler, QueueMessageContext, RedisBrokerModule } from 'nest-redis-broker';
import { BrokerMetrics, RedisBrokerMetricsModule } from 'nest-redis-broker/observability';
import { waitFor } from 'nest-redis-broker/testing';

const QUEUE = 'install-test-greetings';

interface Greeting {
  name: string;
}

@Injectable()
class GreetingWorker {
  readonly handled: string[] = [];

  @QueueHandler(QUEUE)
  async greet(@Payload() greeting: Greeting, @Ctx() context: QueueMessageContext): Promise<void> {
    this.handled.push(`hello ${greeting.name} (queue ${context.queue}, attempt ${context.attempt})`);
  }
}

const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set');

@Module({
  imports: [RedisBrokerModule.forRoot({ connection: { url } }), RedisBrokerMetricsModule.forRoot()],
  providers: [GreetingWorker],
})
class InstallTestModule {}

const app = await NestFactory.createApplicationContext(InstallTestModule, { logger: ['error', 'warn'] });
try {
  const worker = app.get(GreetingWorker);
  await app.get(BrokerClient).enqueue(QUEUE, { name: 'tarball' } satisfies Greeting);
  console.log(`enqueued {"name":"tarball"} on ${QUEUE}`);
  await waitFor(() => worker.handled.length > 0, { description: 'the handler to run' });
  console.log(`handled: ${worker.handled.join('; ')}`);

  // The counter moves when the message is settled, just after the handler returns.
  const metrics = app.get(BrokerMetrics);
  const handledLine = (text: string): string | undefined =>
    text.split('\n').find((line) => line.includes('messages_handled_total{') && line.includes(`"${QUEUE}"`) && / 1$/.test(line));
  await waitFor(async () => handledLine(await metrics.metricsText()) !== undefined, { description: 'the metrics to count one handled message' });
  console.log(`metrics: ${handledLine(await metrics.metricsText())}`);
} finally {
  await app.close();
}
