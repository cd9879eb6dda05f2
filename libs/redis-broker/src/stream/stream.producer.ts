import type { RedisClient } from '../connection/redis-connection.factory.js';
import { InvalidBrokerOptionsError } from '../errors/invalid-broker-options.error.js';
import { StreamKeys } from '../keys.js';
import { messages } from '../messages.js';
import { resolveStreamTrim } from '../options/handler-options.validation.js';
import { BROKER_DEFAULTS, type StreamTrimOptions } from '../redis-broker.options.js';
import { BoundedCache } from '../runtime/bounded-cache.js';

/**
 * Options of one append.
 * @publicApi
 */
export interface AppendOptions extends StreamTrimOptions {
  /** `MINID ~ id`: drop entries older than this id. Exclusive with `maxLen` and `maxAgeMs`. */
  minId?: string;
}

/**
 * A stream entry's fields as given to `append`: strings are stored as they
 * are, numbers, booleans and bigints as their text, `undefined` is left out,
 * anything else (objects, arrays, null) JSON-encoded in its field.
 * @publicApi
 */
export type StreamFields = Record<string, unknown>;

const APPEND_MANY_CHUNK = 1_000;
const STREAM_ID = /^\d+(-\d+)?$/;

/** Writes stream entries: `XADD stream [MAXLEN|MINID ~ n] * field value ...`. */
export class StreamProducer {
  private readonly keysByStream = new BoundedCache<StreamKeys>(BROKER_DEFAULTS.producerKeyCacheSize);

  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
    private readonly trims: Readonly<Record<string, StreamTrimOptions>>,
  ) {}

  async append(stream: string, fields: StreamFields, options?: AppendOptions): Promise<string> {
    const args = this.xaddArgs(stream, fields, options);
    return (await this.command.call('XADD', ...args)) as string;
  }

  async appendMany(stream: string, entries: readonly StreamFields[], options?: AppendOptions): Promise<string[]> {
    const all = entries.map((fields) => this.xaddArgs(stream, fields, options));
    const ids: string[] = [];
    for (let i = 0; i < all.length; i += APPEND_MANY_CHUNK) {
      const pipeline = this.command.pipeline();
      for (const args of all.slice(i, i + APPEND_MANY_CHUNK)) pipeline.call('XADD', ...args);
      const results = await pipeline.exec();
      for (const [error, id] of results ?? []) {
        if (error) throw error;
        ids.push(id as string);
      }
    }
    return ids;
  }

  private keys(stream: string): StreamKeys {
    return this.keysByStream.get(stream, (name) => new StreamKeys(name, this.prefix));
  }

  private xaddArgs(stream: string, fields: StreamFields, options: AppendOptions | undefined): string[] {
    const args = [this.keys(stream).stream, ...trimArgs(options ?? this.trims[stream]), '*'];
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      throw new TypeError(`Cannot append to stream "${stream}": fields must be an object of field → value`);
    }
    let count = 0;
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      args.push(name, encodeField(value));
      count += 1;
    }
    if (count === 0) throw new TypeError(`Cannot append to stream "${stream}": an entry needs at least one field`);
    return args;
  }
}

function encodeField(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function trimArgs(options: AppendOptions | undefined): string[] {
  if (!options) return [];
  const { minId, ...trim } = options;
  const { maxLen, maxAgeMs } = resolveStreamTrim('append', trim);
  const given = [maxLen, maxAgeMs, minId].filter((v) => v !== undefined).length;
  if (given > 1) throw new InvalidBrokerOptionsError(messages.invalidOption('append', options, 'one of maxLen, maxAgeMs or minId'));
  if (minId !== undefined) {
    if (typeof minId !== 'string' || !STREAM_ID.test(minId)) {
      throw new InvalidBrokerOptionsError(messages.invalidOption('append.minId', minId, 'an entry id such as "1700000000000-0"'));
    }
    return ['MINID', '~', minId];
  }
  if (maxLen !== undefined) return ['MAXLEN', '~', String(maxLen)];
  if (maxAgeMs !== undefined) return ['MINID', '~', String(Date.now() - maxAgeMs)];
  return [];
}
