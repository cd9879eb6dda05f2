// The ceiling: what plain ioredis gets from Redis with no framework around it.
// List: multi-value LPUSH per batch + a BLMPOP COUNT loop (at-most-once).
// List, enveloped: the same loop, its messages wrapped in the version-1
// envelope (docs/wire-format.md) as any client can write and read it, so the
// wire's cost shows apart from the library's.
// Stream: XADD per entry (pipelined) + XREADGROUP COUNT, one XACK per batch.
// Pub/sub: pipelined PUBLISH + a bare subscriber.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RunningConsumer } from '../child.js';
import type { Producer } from '../producer-driver.js';
import { benchFields, type BenchMessage, type ChildConfig } from '../protocol.js';
import type { Recorder } from '../recorder.js';
import { BENCH_BATCH_SIZE } from '../scenarios.js';

const FETCH_COUNT = BENCH_BATCH_SIZE;
const BLOCK_SECONDS = 1;
const GROUP = 'bench';

export async function startConsumer(config: ChildConfig, recorder: Recorder): Promise<RunningConsumer> {
  const redis = new Redis(config.redisUrl);
  if (config.system === 'raw-pubsub') return subscribe(redis, config, recorder);
  let stopping = false;
  const loops = { 'raw-stream': streamLoop, 'raw-list-envelope': envelopeListLoop } as const;
  const loop = (loops[config.system as keyof typeof loops] ?? listLoop)(redis, config, recorder, () => stopping);
  return {
    stop: async () => {
      stopping = true;
      await loop;
      redis.disconnect();
    },
  };
}

async function listLoop(redis: Redis, config: ChildConfig, recorder: Recorder, stopping: () => boolean): Promise<void> {
  while (!stopping()) {
    const reply = (await redis.call('BLMPOP', BLOCK_SECONDS, 1, config.target, 'RIGHT', 'COUNT', FETCH_COUNT)) as [string, string[]] | null;
    if (!reply) continue;
    for (const body of reply[1]) recorder.record((JSON.parse(body) as BenchMessage).ts);
  }
}

/** What the enveloped loop reads: an envelope (marker 1) around the bench message. */
interface BenchEnvelope {
  __nrb?: unknown;
  p: BenchMessage;
}

async function envelopeListLoop(redis: Redis, config: ChildConfig, recorder: Recorder, stopping: () => boolean): Promise<void> {
  while (!stopping()) {
    const reply = (await redis.call('BLMPOP', BLOCK_SECONDS, 1, config.target, 'RIGHT', 'COUNT', FETCH_COUNT)) as [string, string[]] | null;
    if (!reply) continue;
    for (const body of reply[1]) {
      const value = JSON.parse(body) as BenchEnvelope | BenchMessage;
      recorder.record(('__nrb' in value && value.__nrb === 1 ? value.p : (value as BenchMessage)).ts);
    }
  }
}

async function streamLoop(redis: Redis, config: ChildConfig, recorder: Recorder, stopping: () => boolean): Promise<void> {
  const { target } = config;
  try {
    await redis.xgroup('CREATE', target, GROUP, '0', 'MKSTREAM');
  } catch (error) {
    if (!String(error).includes('BUSYGROUP')) throw error;
  }
  while (!stopping()) {
    const reply = (await redis.xreadgroup(
      'GROUP', GROUP, 'raw', 'COUNT', FETCH_COUNT, 'BLOCK', BLOCK_SECONDS * 1000, 'STREAMS', target, '>',
    )) as [string, [string, string[]][]][] | null;
    if (!reply) continue;
    const ids: string[] = [];
    for (const [id, fields] of reply[0][1]) {
      const ts = fields.indexOf('ts');
      recorder.record(Number(fields[ts + 1]));
      ids.push(id);
    }
    // Not awaited: the next XREADGROUP queues behind it on the same connection.
    redis.xack(target, GROUP, ...ids).catch((error: unknown) => console.error('XACK failed:', String(error)));
  }
}

async function subscribe(redis: Redis, config: ChildConfig, recorder: Recorder): Promise<RunningConsumer> {
  redis.on('message', (_channel: string, body: string) => recorder.record((JSON.parse(body) as BenchMessage).ts));
  await redis.subscribe(config.target);
  return {
    stop: async () => {
      redis.disconnect();
    },
  };
}

export async function createProducer(config: ChildConfig): Promise<Producer> {
  const redis = new Redis(config.redisUrl);
  const { target, system } = config;
  const close = async (): Promise<void> => {
    await redis.quit();
  };
  if (system === 'raw-stream') {
    return {
      sendBatch: async (messages) => {
        const pipeline = redis.pipeline();
        for (const message of messages) pipeline.xadd(target, '*', ...Object.entries(benchFields(message)).flat());
        await pipeline.exec();
      },
      sendOne: async (message) => {
        await redis.xadd(target, '*', ...Object.entries(benchFields(message)).flat());
      },
      close,
    };
  }
  if (system === 'raw-pubsub') {
    return {
      sendBatch: async (messages) => {
        const pipeline = redis.pipeline();
        for (const message of messages) pipeline.publish(target, JSON.stringify(message));
        await pipeline.exec();
      },
      sendOne: async (message) => {
        await redis.publish(target, JSON.stringify(message));
      },
      close,
    };
  }
  if (system === 'raw-list-envelope') {
    // Ids as the library makes them (a random prefix per process and a counter), so the bytes match.
    const prefix = randomBytes(9).toString('base64url');
    let counter = 0;
    const wrap = (message: BenchMessage, middle: string): string => {
      counter += 1;
      return `{"__nrb":1,"id":"${prefix}${counter.toString(36)}${middle}${JSON.stringify(message)}}`;
    };
    return {
      sendBatch: async (messages) => {
        const middle = `","t":${Date.now()},"p":`;
        await redis.lpush(target, ...messages.map((m) => wrap(m, middle)));
      },
      sendOne: async (message) => {
        await redis.lpush(target, wrap(message, `","t":${Date.now()},"p":`));
      },
      close,
    };
  }
  return {
    sendBatch: async (messages) => {
      await redis.lpush(target, ...messages.map((m) => JSON.stringify(m)));
    },
    sendOne: async (message) => {
      await redis.lpush(target, JSON.stringify(message));
    },
    close,
  };
}
