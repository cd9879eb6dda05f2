// The bound of the I/O-bound scenario: `concurrency` bare Node loops, each
// awaiting the handler's timer once per message, with no Redis and no
// framework, in a forked process shaped as the others (cold, same recorder).
// A broker keeping its concurrency full reaches this rate; nothing can pass it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningConsumer } from '../child.js';
import type { Producer } from '../producer-driver.js';
import { now, type ChildConfig } from '../protocol.js';
import type { Recorder } from '../recorder.js';

export async function startConsumer(config: ChildConfig, recorder: Recorder): Promise<RunningConsumer> {
  let taken = 0;
  let stopping = false;
  const loop = async (): Promise<void> => {
    while (!stopping && taken < config.count) {
      taken += 1;
      recorder.begin();
      await sleep(config.handlerMs);
      recorder.record(now());
    }
  };
  const loops = Promise.all(Array.from({ length: config.concurrency }, loop));
  return {
    stop: async () => {
      stopping = true;
      await loops;
    },
  };
}

/** Nothing to write: the loops count their own messages. */
export async function createProducer(): Promise<Producer> {
  return { sendBatch: async () => undefined, sendOne: async () => undefined, close: async () => undefined };
}
