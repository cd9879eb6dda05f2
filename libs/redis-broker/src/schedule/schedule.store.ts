import { ScheduleKeys } from '../core/keys.js';
import type { RedisClient } from '../core/redis/redis-client.js';
import { NextRunCalculator } from './next-run.calculator.js';
import type { ScheduleInfo, StoredSchedule } from './schedule.options.js';

/** A schedule the index says is due, with its stored definition (undefined: unreadable or gone). */
export interface DueSchedule {
  id: string;
  tick: number;
  schedule: StoredSchedule | undefined;
}

/** One poll's view: the Redis clock, the earliest next run, what is due, stale outbox entries. */
export interface DuePoll {
  now: number;
  /** Earliest next run of any schedule, or null when none will run. */
  earliest: number | null;
  due: DueSchedule[];
  stale: string[];
}

/** Result of one claim (see schedule-claim.lua). */
export type ClaimResult = 'fired' | 'skipped' | 'lost' | 'early';

/**
 * The schedules' Redis state (see `ScheduleKeys`), one script per atomic
 * step; times are read from the Redis clock, never the host's.
 */
export class ScheduleStore {
  readonly keys: ScheduleKeys;

  constructor(private readonly command: RedisClient, prefix: string) {
    this.keys = new ScheduleKeys(prefix);
  }

  /** Creates or changes a schedule; the same definition again changes nothing (its next run is kept). */
  async upsert(id: string, schedule: StoredSchedule): Promise<'created' | 'changed' | 'unchanged'> {
    const [seconds, micros] = await this.command.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const first = new NextRunCalculator(schedule.timing).firstRun(now);
    const { index, definitions, runs } = this.keys;
    const result = await this.command.nrbScheduleUpsert(
      index, definitions, runs, id, JSON.stringify(schedule), first ?? '', schedule.timing.limit ?? 0,
    );
    return result === 1 ? 'created' : result === 2 ? 'changed' : 'unchanged';
  }

  /** Deletes a schedule; resolves to whether it existed. */
  async remove(id: string): Promise<boolean> {
    const { index, definitions, runs, lastRuns } = this.keys;
    return (await this.command.nrbScheduleRemove(index, definitions, runs, lastRuns, id)) === 1;
  }

  async due(limit: number, staleMs: number): Promise<DuePoll> {
    const reply = await this.command.nrbScheduleDue(this.keys.index, this.keys.definitions, this.keys.outbox, limit, staleMs);
    const count = Number(reply[2]);
    const due: DueSchedule[] = [];
    for (let i = 0; i < count; i += 1) {
      const at = 3 + i * 3;
      due.push({ id: String(reply[at]), tick: Number(reply[at + 1]), schedule: parseStored(reply[at + 2]) });
    }
    const earliest = Number(reply[1]);
    return { now: Number(reply[0]), earliest: earliest < 0 ? null : earliest, due, stale: reply.slice(3 + count * 3).map(String) };
  }

  async claim(id: string, tick: number, next: number | null, fire: boolean, limit: number): Promise<ClaimResult> {
    const { index, runs, lastRuns, outbox } = this.keys;
    const result = await this.command.nrbScheduleClaim(index, runs, lastRuns, outbox, id, tick, next ?? '', fire ? 1 : 0, limit);
    return result === 1 ? 'fired' : result === 2 ? 'skipped' : result === -1 ? 'early' : 'lost';
  }

  /** Whether no schedule will run and no claimed tick waits in the outbox. */
  async isEmpty(): Promise<boolean> {
    const [scheduled, claimed] = await Promise.all([this.command.zcard(this.keys.index), this.command.zcard(this.keys.outbox)]);
    return scheduled === 0 && claimed === 0;
  }

  /** The stored definition of one schedule, or undefined. */
  async definition(id: string): Promise<StoredSchedule | undefined> {
    return parseStored(await this.command.hget(this.keys.definitions, id));
  }

  /** Marks an outbox entry delivered. */
  async delivered(member: string): Promise<void> {
    await this.command.zrem(this.keys.outbox, member);
  }

  /** Every schedule with its next run, last run and runs so far, by id. */
  async list(): Promise<ScheduleInfo[]> {
    const { index, definitions, runs, lastRuns } = this.keys;
    const [defs, nexts, counts, lasts] = await Promise.all([
      this.command.hgetall(definitions),
      this.command.zrange(index, '0', '-1', 'WITHSCORES'),
      this.command.hgetall(runs),
      this.command.hgetall(lastRuns),
    ]);
    const nextById = new Map<string, number>();
    for (let i = 0; i < nexts.length; i += 2) nextById.set(nexts[i], Number(nexts[i + 1]));
    return Object.keys(defs).sort().flatMap((id) => {
      const stored = parseStored(defs[id]);
      if (!stored) return [];
      return [{
        id,
        target: stored.target,
        definition: stored.timing,
        payload: stored.payload,
        nextRunAt: nextById.get(id) ?? null,
        lastRunAt: lasts[id] === undefined ? null : Number(lasts[id]),
        runs: Number(counts[id] ?? 0),
      }];
    });
  }
}

/** An outbox member `<tick> <id>` split, or undefined when malformed. */
export function parseOutboxMember(member: string): { tick: number; id: string } | undefined {
  const space = member.indexOf(' ');
  const tick = Number(member.slice(0, space));
  return space > 0 && Number.isSafeInteger(tick) ? { tick, id: member.slice(space + 1) } : undefined;
}

function parseStored(value: unknown): StoredSchedule | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<StoredSchedule>;
    return parsed && typeof parsed === 'object' && parsed.timing && parsed.target ? (parsed as StoredSchedule) : undefined;
  } catch {
    return undefined;
  }
}
