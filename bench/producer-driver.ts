import { setTimeout as sleep } from 'node:timers/promises';
import { benchMessage, now, type BenchMessage, type ChildConfig } from './protocol.js';

/** How one system writes messages. */
export interface Producer {
  /** Sends many messages in as few round trips as the system allows; resolves once stored. */
  sendBatch(messages: BenchMessage[]): Promise<void>;
  /** Sends one message with one command (paced scenario). */
  sendOne(message: BenchMessage): Promise<void>;
  close(): Promise<void>;
}

const BATCH = 1_000;
/** Batches in flight at once when sending at full speed. */
const IN_FLIGHT = 4;

export interface ProduceReport {
  sent: number;
  firstAt: number;
  lastAt: number;
  /** CPU time the producer process used while sending, µs (user + system). */
  cpuUs: number;
}

/** Full speed (`rate` 0): `count` messages in batches. Paced: `rate` msg/s for `durationMs`, one command each. */
export async function runProducer(producer: Producer, config: ChildConfig): Promise<ProduceReport> {
  const cpu0 = process.cpuUsage();
  const report = config.rate > 0 ? await paced(producer, config.rate, config.durationMs) : await fullSpeed(producer, config.count);
  const cpu = process.cpuUsage(cpu0);
  return { ...report, cpuUs: cpu.user + cpu.system };
}

/** The warm-up before a measured run: `count` messages at full speed, the way the run sends them. */
export async function warmUp(producer: Producer, count: number): Promise<void> {
  await fullSpeed(producer, count);
}

async function fullSpeed(producer: Producer, count: number): Promise<Omit<ProduceReport, 'cpuUs'>> {
  const firstAt = now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const start = next;
      const end = Math.min(count, start + BATCH);
      next = end;
      const batch: BenchMessage[] = [];
      for (let id = start; id < end; id++) batch.push(benchMessage(id));
      await producer.sendBatch(batch);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { sent: count, firstAt, lastAt: now() };
}

async function paced(producer: Producer, rate: number, durationMs: number): Promise<Omit<ProduceReport, 'cpuUs'>> {
  const total = Math.ceil((rate * durationMs) / 1000);
  const firstAt = now();
  let inFlight = 0;
  let failure: Error | undefined;
  const settled = (): void => {
    inFlight -= 1;
  };
  let sent = 0;
  while (sent < total) {
    if (failure !== undefined) throw failure;
    const due = Math.min(total, Math.floor(((now() - firstAt) * rate) / 1000) + 1);
    while (sent < due) {
      inFlight += 1;
      producer.sendOne(benchMessage(sent)).then(settled, (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
        settled();
      });
      sent += 1;
    }
    await sleep(1);
  }
  while (inFlight > 0) await sleep(1);
  if (failure !== undefined) throw failure;
  return { sent, firstAt, lastAt: now() };
}
