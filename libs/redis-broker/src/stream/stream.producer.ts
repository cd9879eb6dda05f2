import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { ReplicatedWriter, ReplicationWait } from '../core/redis/replicated-writer.js';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { StreamKeys } from '../core/keys.js';
import { messages } from '../core/messages.js';
import type { NameRegistry } from '../core/redis/name.registry.js';
import { resolveStreamTrim } from '../core/options/handler-options.validation.js';
import { REPLICATION_KEYS, resolveReplication } from '../core/options/replication-options.validation.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ReplicationOptions } from '../core/options/broker.options.js';
import type { StreamTrimOptions } from '../core/options/handler.options.js';
import { BoundedCache } from '../runtime/bounded-cache.js';
import { assertHeaders, STREAM_HEADER_PREFIX } from '../core/envelope.js';
import { activeTracer } from '../runtime/tracing/otel-api.js';
import { traceSend, withTraceFields, type TraceFields } from '../runtime/tracing/send-tracing.js';
import { encodeStreamField } from '../core/stream-fields.js';

/**
 * Options of one append.
 * @publicApi
 */
export interface AppendOptions extends StreamTrimOptions, ReplicationOptions {
  /** `MINID ~ id`: drop entries older than this id. Exclusive with `maxLen` and `maxAgeMs`. */
  minId?: string;
  /**
   * Metadata beside the fields (a trace context, a tenant), written as fields
   * named `__nrb.h.<name>`; the handler reads them as `ctx.headers`, not in
   * its payload. With `appendMany`, every entry gets them.
   */
  headers?: Record<string, string>;
}

/**
 * A stream entry's fields as given to `append`: strings are stored as they
 * are, numbers, booleans and bigints as their text, `undefined` is left out,
 * anything else (objects, arrays, null) JSON-encoded in its field.
 * @publicApi
 */
export type StreamFields = Record<string, unknown>;

const STREAM_ID = /^\d+(-\d+)?$/;

/** Writes stream entries: `XADD stream [MAXLEN|MINID ~ n] * field value ...`. */
export class StreamProducer {
  private readonly keysByStream = new BoundedCache<StreamKeys>(BROKER_DEFAULTS.producerKeyCacheSize);

  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
    private readonly trims: Readonly<Record<string, StreamTrimOptions>>,
    private readonly names: NameRegistry,
    private readonly replicated: ReplicatedWriter,
  ) {}

  async append(stream: string, fields: StreamFields, options?: AppendOptions): Promise<string> {
    // Tracing (runtime/tracing, docs/tracing.md): a PRODUCER span, its context in `__nrb.h.` fields; off: one lookup.
    const tracer = activeTracer();
    if (tracer === undefined) return this.write(stream, fields, options);
    return traceSend(tracer, { destination: stream, carrier: options?.headers }, (trace) => this.write(stream, fields, tracedOptions(options, trace)), (id) => id);
  }

  private async write(stream: string, fields: StreamFields, options: AppendOptions | undefined): Promise<string> {
    const { trim, replication, headers } = splitOptions(options);
    const args = this.xaddArgs(stream, fields, trim, headers);
    const write = replication
      ? this.replicated.write(args[0], (pipeline) => pipeline.call('XADD', ...args), replication).then((results) => results[0])
      : this.command.call('XADD', ...args);
    // The stream's first record in the registry goes out beside the XADD: one round trip for both.
    const record = this.names.record('stream', stream);
    const [, id] = record ? await Promise.all([record, write]) : [undefined, await write];
    return id as string;
  }

  /** With `replicas`, one `WAIT` follows each chunk of 1000 entries. */
  async appendMany(stream: string, entries: readonly StreamFields[], options?: AppendOptions): Promise<string[]> {
    // Tracing: one PRODUCER span for the batch, its context in every entry.
    const tracer = activeTracer();
    if (tracer === undefined) return this.writeMany(stream, entries, options);
    return traceSend(tracer, { destination: stream, batchCount: entries.length, carrier: options?.headers }, (trace) =>
      this.writeMany(stream, entries, tracedOptions(options, trace)));
  }

  private async writeMany(stream: string, entries: readonly StreamFields[], options: AppendOptions | undefined): Promise<string[]> {
    const { trim, replication, headers } = splitOptions(options);
    // The key and trimming arguments are the same for every entry: built once.
    const head = this.xaddHead(stream, trim);
    const all = entries.map((fields) => this.xaddFields(stream, head, fields, headers));
    if (all.length > 0) await this.names.record('stream', stream);
    const ids: string[] = [];
    for (let i = 0; i < all.length; i += BROKER_DEFAULTS.produceChunk) {
      const chunk = all.slice(i, i + BROKER_DEFAULTS.produceChunk);
      ids.push(...(await this.appendChunk(chunk, replication)));
    }
    return ids;
  }

  private async appendChunk(chunk: string[][], replication: ReplicationWait | undefined): Promise<string[]> {
    if (replication) {
      const ids = await this.replicated.write(chunk[0][0], (pipeline) => {
        for (const args of chunk) pipeline.call('XADD', ...args);
      }, replication);
      return ids as string[];
    }
    const pipeline = this.command.pipeline();
    for (const args of chunk) pipeline.call('XADD', ...args);
    const ids: string[] = [];
    for (const [error, id] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      ids.push(id as string);
    }
    return ids;
  }

  private keys(stream: string): StreamKeys {
    return this.keysByStream.get(stream, (name) => new StreamKeys(name, this.prefix));
  }

  private xaddArgs(stream: string, fields: StreamFields, options: AppendOptions | undefined, headers: Record<string, string> | undefined): string[] {
    return this.xaddFields(stream, this.xaddHead(stream, options), fields, headers);
  }

  /** `key [MAXLEN|MINID ~ n] *`: what precedes the fields. */
  private xaddHead(stream: string, options: AppendOptions | undefined): string[] {
    return [this.keys(stream).stream, ...trimArgs(options ?? this.trims[stream]), '*'];
  }

  private xaddFields(stream: string, head: readonly string[], fields: StreamFields, headers: Record<string, string> | undefined): string[] {
    const args = head.slice();
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      throw new TypeError(`Cannot append to stream "${stream}": fields must be an object of field → value`);
    }
    let count = 0;
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      args.push(name, encodeStreamField(value));
      count += 1;
    }
    if (count === 0) throw new TypeError(`Cannot append to stream "${stream}": an entry needs at least one field`);
    if (headers) for (const name in headers) args.push(STREAM_HEADER_PREFIX + name, headers[name]);
    return args;
  }
}

/** The append's options with the trace fields among its headers (an options-less append keeps the module's trimming: see `splitOptions`). */
function tracedOptions(options: AppendOptions | undefined, trace: TraceFields | undefined): AppendOptions | undefined {
  if (trace === undefined || (options !== undefined && (typeof options !== 'object' || options === null))) return options;
  return { ...options, headers: withTraceFields(options?.headers, trace) };
}

interface SplitOptions {
  trim: AppendOptions | undefined;
  replication: ReplicationWait | undefined;
  headers: Record<string, string> | undefined;
}

/**
 * Separates the replication options and the headers from the trimming ones.
 * Options that only ask for replicas or headers leave the module's trimming
 * of the stream in force.
 */
function splitOptions(options: AppendOptions | undefined): SplitOptions {
  if (!options || typeof options !== 'object') return { trim: options, replication: undefined, headers: undefined };
  const { replicas, replicasTimeoutMs, headers, ...trim } = options;
  assertHeaders('append.headers', headers);
  const replication = resolveReplication('append', { replicas, replicasTimeoutMs });
  const onlyOthers = Object.keys(trim).length === 0 && [...REPLICATION_KEYS, 'headers'].some((key) => key in options);
  return { trim: onlyOthers ? undefined : trim, replication, headers };
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
