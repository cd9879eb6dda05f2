import { encodeEnvelope, STREAM_HEADER_PREFIX } from '../core/envelope.js';
import { QueueKeys, StreamKeys } from '../core/keys.js';
import type { NameRegistry } from '../core/redis/name.registry.js';
import type { RedisClient } from '../core/redis/redis-client.js';
import { encodeStreamField } from '../core/stream-fields.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { StoredSchedule } from './schedule.options.js';

/** Header naming the schedule a tick message comes from. */
export const SCHEDULE_HEADER = 'nrb-schedule';
/** Header holding a tick message's tick time (epoch ms, as text). */
export const TICK_HEADER = 'nrb-tick';

/** The id of a tick's queue message: `<schedule id>@<tick ms>`, the same whoever delivers it. */
export function tickMessageId(id: string, tick: number): string {
  return `${id}@${tick}`;
}

/**
 * Writes one claimed tick to its target, in the wire format the producers
 * write (an envelope on a list, fields plus `__nrb.h.*` headers on a
 * stream), through a script in the target's slot that drops a tick the
 * target got already: a tick delivered again from the outbox lands once.
 */
export class TickDeliverer {
  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
    private readonly names: NameRegistry,
  ) {}

  /** Resolves to true when written, false when the target had this tick already. */
  async deliver(id: string, tick: number, schedule: StoredSchedule): Promise<boolean> {
    const window = BROKER_DEFAULTS.schedule.dedupWindowMs;
    const headers = { [SCHEDULE_HEADER]: id, [TICK_HEADER]: String(tick) };
    const { target } = schedule;
    let written: number;
    if ('queue' in target) {
      const keys = new QueueKeys(target.queue, this.prefix);
      const body = encodeEnvelope(tickMessageId(id, tick), Date.now(), headers, JSON.stringify(schedule.payload ?? null));
      written = await this.command.nrbScheduleQueuePush(keys.list, keys.scheduleTicks(id), tick, window, body);
      await this.names.record('queue', target.queue);
    } else {
      const keys = new StreamKeys(target.stream, this.prefix);
      const fields: string[] = [];
      const payload = (schedule.payload ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(payload)) if (value !== undefined) fields.push(name, encodeStreamField(value));
      for (const [name, value] of Object.entries(headers)) fields.push(STREAM_HEADER_PREFIX + name, value);
      written = await this.command.nrbScheduleStreamAppend(keys.stream, keys.scheduleTicks(id), tick, window, ...fields);
      await this.names.record('stream', target.stream);
    }
    return written === 1;
  }
}
