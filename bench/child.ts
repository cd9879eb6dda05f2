// One benchmark process: a consumer or a producer of one system, driven by
// bench/run.ts over the IPC channel. Config: JSON in argv[2].
import 'reflect-metadata';
import { runProducer, warmUp, type Producer } from './producer-driver.js';
import type { ChildConfig, ChildMessage, ParentMessage } from './protocol.js';
import { Recorder } from './recorder.js';

/** What a system's consumer gives back once started. */
export interface RunningConsumer {
  stop(): Promise<void>;
}

/** One system's implementation (bench/systems/*.ts). */
export interface SystemModule {
  startConsumer(config: ChildConfig, recorder: Recorder): Promise<RunningConsumer>;
  createProducer(config: ChildConfig): Promise<Producer>;
}

const config = JSON.parse(process.argv[2]) as ChildConfig;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function load(): Promise<SystemModule> {
  if (config.system.startsWith('nrb-')) return import('./systems/nrb.js');
  if (config.system.startsWith('bullmq-')) return import('./systems/bullmq.js');
  if (config.system.startsWith('bound-')) return import('./systems/bound.js');
  return import('./systems/raw.js');
}

function fail(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  void send({ type: 'error', message: text }).finally(() => process.exit(1));
}

async function consume(system: SystemModule): Promise<void> {
  const expected = config.latency ? Math.ceil((config.rate * config.durationMs) / 1000) : config.count;
  const recorder = new Recorder(config.latency, expected);
  const consumer = await system.startConsumer(config, recorder);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'report') void send({ type: 'progress', ...recorder.progress() });
    else if (message.type === 'reset') {
      recorder.reset();
      void send({ type: 'reset' });
    }
    else if (message.type === 'finish') void send({ type: 'result', ...recorder.result() });
    else if (message.type === 'stop') void consumer.stop().then(() => process.exit(0), fail);
  });
  await send({ type: 'ready' });
}

async function produce(system: SystemModule): Promise<void> {
  const producer = await system.createProducer(config);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'warm') {
      warmUp(producer, message.count).then(() => send({ type: 'warmed' }), fail);
      return;
    }
    if (message.type === 'stop') {
      producer.close().then(() => process.exit(0), fail);
      return;
    }
    if (message.type !== 'go') return;
    runProducer(producer, config)
      .then(async (report) => {
        await send({ type: 'produced', ...report });
        await producer.close();
        process.exit(0);
      })
      .catch(fail);
  });
  await send({ type: 'ready' });
}

process.on('disconnect', () => process.exit(0));
load()
  .then((system) => (config.role === 'consumer' ? consume(system) : produce(system)))
  .catch(fail);
