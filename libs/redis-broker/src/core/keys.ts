import { InvalidBrokerOptionsError } from './errors/invalid-broker-options.error.js';
import { messages } from './messages.js';

const NAME_PATTERN = /^[^\s{}\p{Cc}]{1,200}$/u;

/**
 * Rejects a queue, stream or channel name that could break key layout: empty,
 * longer than 200 characters, white space, control characters or braces
 * (braces would change the Cluster hash tag).
 */
export function assertValidName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidBrokerOptionsError(
      messages.invalidName(kind, name, '1 to 200 characters, no white space, control characters or braces'),
    );
  }
}

/**
 * Every Redis key of one list queue. The list itself is the plain name (with
 * the key prefix), so any client can `LPUSH` to it; the broker's own keys are
 * `{<list>}:<suffix>`, whose hash tag is the list's whole name, so all of a
 * queue's keys sit in the list's Cluster slot and scripts may touch them together.
 * @publicApi
 */
export class QueueKeys {
  /** The list producers `LPUSH` to and consumers pop from (right end). */
  readonly list: string;
  /** ZSET: consumer id → heartbeat deadline (ms). */
  readonly consumers: string;
  /** ZSET: `<16-char uid><message>` → due time (ms); delayed and retried messages. */
  readonly delayed: string;
  /** HASH: sha1(message) → failed attempts so far. */
  readonly attempts: string;
  /** HASH: sha1(message) → times its consumer died while running it. */
  readonly deaths: string;
  /** ZSET: dead-letter id → time it died (ms). */
  readonly deadIndex: string;
  /** HASH: dead-letter id → JSON record (reason, error, attempts, times). */
  readonly deadRecords: string;
  /** HASH: dead-letter id → the original message bytes. */
  readonly deadMessages: string;

  constructor(readonly queue: string, prefix: string) {
    assertValidName('queue', queue);
    this.list = `${prefix}${queue}`;
    const tag = `{${this.list}}`;
    this.consumers = `${tag}:consumers`;
    this.delayed = `${tag}:delayed`;
    this.attempts = `${tag}:attempts`;
    this.deaths = `${tag}:deaths`;
    this.deadIndex = `${tag}:dead`;
    this.deadRecords = `${tag}:dead:records`;
    this.deadMessages = `${tag}:dead:messages`;
  }

  /** LIST: the messages one consumer has taken and not yet settled. */
  processing(consumerId: string): string {
    return `{${this.list}}:processing:${consumerId}`;
  }

  /**
   * `SCAN MATCH` pattern of every consumer's processing list of this queue,
   * registered or not (a consumer that died unregistered leaves its list
   * until a reaper returns it); the name's glob characters match only themselves.
   */
  processingPattern(): string {
    return `{${globLiteral(this.list)}}:processing:*`;
  }

  /**
   * HASH: sha1 → fetch time of the messages that consumer holds but has not
   * started (prefetched, or held back to run alone). Everything else in its
   * processing list is running, and is blamed if the consumer dies.
   */
  waiting(consumerId: string): string {
    return `{${this.list}}:waiting:${consumerId}`;
  }

  /**
   * STRING: set by that consumer when it reads its processing list whole,
   * deleted when a reaper returns the list (or the consumer releases it). A
   * consumer cuts acked copies off its list by count only while it exists.
   */
  alive(consumerId: string): string {
    return `{${this.list}}:alive:${consumerId}`;
  }

  /** The keys of this queue's `rateLimit` and `globalConcurrency`, in its slot. */
  limits(): LimitKeys {
    return new LimitKeys(`{${this.list}}`);
  }

  /** HASH: the `batch` option of this queue's handler (`size`, `maxWaitMs`), as its last consumer to start recorded it, for status tools. */
  get batch(): string {
    return `{${this.list}}:batch`;
  }

  /** STRING with a TTL: present while a `dedupKey` is remembered. */
  dedup(dedupKey: string): string {
    assertValidName('dedupKey', dedupKey);
    return `{${this.list}}:dedup:${dedupKey}`;
  }

  /** ZSET: tick time → when it was pushed (ms), the ticks of schedule `scheduleId` this queue got lately (dedup). */
  scheduleTicks(scheduleId: string): string {
    assertValidScheduleId(scheduleId);
    return `{${this.list}}:ticks:${scheduleId}`;
  }
}

/**
 * The Redis channel of a pub/sub channel name: the key prefix plus the name,
 * so `PUBLISH <prefix><name> ...` from any client reaches its listeners.
 * @publicApi
 */
export function channelName(prefix: string, channel: string): string {
  assertValidName('channel', channel);
  return `${prefix}${channel}`;
}

/**
 * LIST: the replies to one requester's `BrokerClient.request` calls,
 * `<prefix>nrb:replies:{<clientId>}`, in a slot of its own (its hash tag is
 * the client id), apart from every queue's keys.
 */
export function replyListKey(prefix: string, clientId: string): string {
  return `${replyListKeyStart(prefix)}${clientId}}`;
}

/** What every reply list's name under `prefix` starts with: a worker pushes replies to no other key. */
export function replyListKeyStart(prefix: string): string {
  return `${prefix}nrb:replies:{`;
}

/**
 * The Redis glob pattern of a channel pattern: the key prefix with its glob
 * characters escaped (so it only matches itself), then the pattern.
 */
export function channelPattern(prefix: string, pattern: string): string {
  assertValidName('channel pattern', pattern);
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}${pattern}`;
}

/**
 * Every Redis key of one stream. The stream itself is the plain name (with
 * the key prefix), so any client can `XADD` to it and read it; the broker's
 * own keys are `{<stream>}:<suffix>`, in the stream's Cluster slot, so one
 * script may move an entry between them.
 * @publicApi
 */
export class StreamKeys {
  /** The stream producers `XADD` to and groups read. */
  readonly stream: string;

  constructor(readonly name: string, prefix: string) {
    assertValidName('stream', name);
    this.stream = `${prefix}${name}`;
  }

  /** STREAM: entries `group` gave up on, with original id, fields, error and delivery count. */
  deadLetter(group: string): string {
    assertValidName('group', group);
    return `{${this.stream}}:dead:${group}`;
  }

  /** The keys of `group`'s `rateLimit` and `globalConcurrency`, in the stream's slot. */
  limits(group: string): LimitKeys {
    assertValidName('group', group);
    return new LimitKeys(`{${this.stream}}`, `:${group}`);
  }

  /** HASH: the `batch` option of `group`'s consumers (`size`, `maxWaitMs`), as the last one to start recorded it, for status tools. */
  batch(group: string): string {
    assertValidName('group', group);
    return `{${this.stream}}:batch:${group}`;
  }

  /** ZSET: tick time → when it was appended (ms), the ticks of schedule `scheduleId` this stream got lately (dedup). */
  scheduleTicks(scheduleId: string): string {
    assertValidScheduleId(scheduleId);
    return `{${this.stream}}:ticks:${scheduleId}`;
  }

  /** STREAM: dead entries requeued for `group` alone; read by that group beside the stream. */
  requeue(group: string): string {
    assertValidName('group', group);
    return `{${this.stream}}:requeue:${group}`;
  }
}

/**
 * The keys of one queue's (or stream group's) cross-process limits, all
 * under its hash tag so the limit scripts run in its Cluster slot.
 * @publicApi
 */
export class LimitKeys {
  /** ZSET: one member per start counted by the rate window → its time (ms; a reservation's is in the future). */
  readonly rate: string;
  /** ZSET: one member per running handler (`globalConcurrency`) → its lease's expiry (ms). */
  readonly leases: string;
  /** LIST: one item per released lease (capped at the limit); waiters block on it. */
  readonly released: string;
  /** HASH: the limits configured by the consumers (`max`, `perMs`, `keyed`, `globalConcurrency`), for status tools. */
  readonly config: string;

  /** `tag`: the queue's or stream's hash tag, `{name}`; `group`: `:<group>` for a stream group. */
  constructor(private readonly tag: string, private readonly group = '') {
    this.rate = `${tag}:rate${group}`;
    this.leases = `${tag}:leases${group}`;
    this.released = `${tag}:leases${group}:released`;
    this.config = `${tag}:limits${group}`;
  }

  /** ZSET: the rate window of one `rateLimit.key` value (any string: it follows the hash tag, so it cannot move the slot). */
  keyedRate(key: string): string {
    return `${this.tag}:rate${this.group}:key:${key}`;
  }
}

/** `prefix` with Redis glob characters escaped, so a `MATCH` pattern built on it matches only itself. */
function globLiteral(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The broker's registry of names under one key prefix: two SETs, of every
 * queue and every stream a producer or consumer of this prefix has used
 * (names without the prefix). Operator tools read them instead of scanning
 * the keyspace. With a key prefix both carry the hash tag `{<prefix>}` and
 * sit in one Cluster slot; without one, `{}` is no hash tag and each set is
 * hashed whole (they are always read one at a time, so either is fine). No
 * queue's or stream's key has that tag, since names are never empty.
 * @publicApi
 */
export class RegistryKeys {
  /** SET: names of queues. */
  readonly queues: string;
  /** SET: names of streams. */
  readonly streams: string;

  constructor(prefix: string) {
    const tag = `{${prefix}}`;
    this.queues = `${tag}:registry:queues`;
    this.streams = `${tag}:registry:streams`;
  }
}

const SCHEDULE_ID_PATTERN = /^[A-Za-z0-9._:/@-]{1,200}$/;

/**
 * Rejects a schedule id other than 1 to 200 letters, digits and `. _ : / @ -`:
 * an id is part of message ids and key names, so it needs no escaping anywhere.
 */
export function assertValidScheduleId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SCHEDULE_ID_PATTERN.test(id)) {
    throw new InvalidBrokerOptionsError(messages.invalidName('schedule', id, '1 to 200 letters, digits or . _ : / @ -'));
  }
}

/**
 * Every Redis key of the schedules under one key prefix, all with the hash
 * tag `{<prefix>nrb:schedules}`: one Cluster slot, so the claim script
 * checks and advances a schedule, and records its tick in the outbox, in
 * one step. Schedules are few and small; their targets live in their own
 * slots and are written after the claim (see docs/schedules.md).
 * @publicApi
 */
export class ScheduleKeys {
  /** ZSET: schedule id → its next run (epoch ms, Redis clock); only schedules that will run again. */
  readonly index: string;
  /** HASH: schedule id → its definition (JSON: timing, target, payload). */
  readonly definitions: string;
  /** HASH: schedule id → ticks fired so far. */
  readonly runs: string;
  /** HASH: schedule id → time of its last fired tick (ms). */
  readonly lastRuns: string;
  /** ZSET: `<tick ms> <schedule id>` → when claimed (ms): ticks claimed and not yet known to be delivered. */
  readonly outbox: string;

  constructor(prefix: string) {
    const tag = `{${prefix}nrb:schedules}`;
    this.index = `${tag}:index`;
    this.definitions = `${tag}:definitions`;
    this.runs = `${tag}:runs`;
    this.lastRuns = `${tag}:last`;
    this.outbox = `${tag}:outbox`;
  }
}
