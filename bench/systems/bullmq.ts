// BullMQ, the usual choice: a Worker with concurrency 1 or 50, jobs removed on
// completion, and a Queue producing with addBulk / add.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import type { RunningConsumer } from '../child.js';
import type { Producer } from '../producer-driver.js';
import type { BenchMessage, ChildConfig } from '../protocol.js';
import type { Recorder } from '../recorder.js';

function connection(redisUrl: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
}

const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true };

export async function startConsumer(config: ChildConfig, recorder: Recorder): Promise<RunningConsumer> {
  const worker = new Worker<BenchMessage>(
    config.target,
    async (job) => {
      if (config.handlerMs > 0) {
        recorder.begin();
        await sleep(config.handlerMs);
      }
      recorder.record(job.data.ts);
    },
    { connection: connection(config.redisUrl), concurrency: config.concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
  );
  worker.on('error', (error) => console.error('bullmq worker:', error.message));
  await worker.waitUntilReady();
  return { stop: () => worker.close() };
}

export async function createProducer(config: ChildConfig): Promise<Producer> {
  const queue = new Queue<BenchMessage>(config.target, { connection: connection(config.redisUrl), defaultJobOptions: JOB_OPTIONS });
  await queue.waitUntilReady();
  return {
    sendBatch: async (messages) => {
      await queue.addBulk(messages.map((data) => ({ name: 'bench', data })));
    },
    sendOne: async (message) => {
      await queue.add('bench', message);
    },
    close: () => queue.close(),
  };
}
