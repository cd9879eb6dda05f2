import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { ReplicatedWriter } from '../core/redis/replicated-writer.js';
import { EnqueueManyError } from '../core/errors/enqueue-many.error.js';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { QueueKeys } from '../core/keys.js';
import { messages } from '../core/messages.js';
import type { NameRegistry } from '../core/redis/name.registry.js';
import { REPLICATION_KEYS, resolveReplication } from '../core/options/replication-options.validation.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ReplicationOptions } from '../core/options/broker.options.js';
import { BoundedCache } from '../runtime/bounded-cache.js';
import { errorText } from '../core/error-text.js';
import { assertHeaders, encodeEnvelope, envelopeAround, envelopeMiddle, newMessageId } from '../core/envelope.js';
import { activeTracer } from '../runtime/tracing/otel-api.js';
import { traceSend, withTraceFields } from '../runtime/tracing/send-tracing.js';
import { pushEnvelopes } from '../core/redis/push-envelopes.command.js';

/**
 * Options of one enqueue.
 * @publicApi
 */
export interface EnqueueOptions extends ReplicationOptions {
  /** Deliver no sooner than this many ms from now (kept in the queue's delayed set meanwhile). */
  delayMs?: number;
  /** Skip this message if one with the same key was enqueued within `dedupTtlMs`. */
  dedupKey?: string;
  /** How long a `dedupKey` is remembered. Default 1 hour. */
  dedupTtlMs?: number;
  /** `high` puts the message at the consuming end: it is taken next. Default `normal` (first in, first out). */
  priority?: 'normal' | 'high';
  /**
   * Metadata carried beside the payload (a trace context, a tenant): string
   * names and values, read by the handler as `ctx.headers`.
   */
  headers?: Record<string, string>;
}

const ENQUEUE_KEYS = ['delayMs', 'dedupKey', 'dedupTtlMs', 'priority', 'headers', ...REPLICATION_KEYS];

/**
 * Writes list messages, each in an envelope that gives it an id (see
 * `core/envelope.ts`): a bare `LPUSH` when no option asks for more.
 */
export class QueueProducer {
  private readonly keysByQueue = new BoundedCache<QueueKeys>(BROKER_DEFAULTS.producerKeyCacheSize);

  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
    private readonly names: NameRegistry,
    private readonly replicated: ReplicatedWriter,
  ) {}

  keys(queue: string): QueueKeys {
    return this.keysByQueue.get(queue, (name) => new QueueKeys(name, this.prefix));
  }

  /**
   * Resolves to the message's id, or null when `dedupKey` skipped it. `id`:
   * one made by `newMessageId` beforehand (a request registers it before the
   * message can be answered).
   */
  async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}, id = newMessageId()): Promise<string | null> {
    // Tracing (runtime/tracing, docs/tracing.md): a PRODUCER span, its context in the headers; off: one lookup.
    const tracer = activeTracer();
    if (tracer === undefined) return this.write(queue, payload, options, id);
    return traceSend(tracer, { destination: queue, messageId: id, carrier: options.headers }, (fields) =>
      this.write(queue, payload, fields === undefined ? options : { ...options, headers: withTraceFields(options.headers, fields) }, id));
  }

  private async write(queue: string, payload: unknown, options: EnqueueOptions, id: string): Promise<string | null> {
    const keys = this.keys(queue);
    validateEnqueueOptions(options);
    const body = encodeEnvelope(id, Date.now(), options.headers, encode(payload));
    const replication = resolveReplication('enqueue', options);
    const { delayMs = 0, dedupKey, dedupTtlMs = BROKER_DEFAULTS.dedupTtlMs, priority = 'normal' } = options;
    if (delayMs === 0 && dedupKey === undefined) {
      const write: Promise<unknown> = replication
        ? this.replicated.write(keys.list, (pipeline) => push(pipeline, priority, keys.list, body), replication)
        : priority === 'high' ? this.command.rpush(keys.list, body) : this.command.lpush(keys.list, body);
      await this.recorded(queue, write);
      return id;
    }
    const dedupMarker = dedupKey === undefined ? keys.delayed : keys.dedup(dedupKey);
    const args = [
      keys.list, keys.delayed, dedupMarker,
      body, delayMs, dedupKey === undefined ? 0 : dedupTtlMs, priority, randomBytes(8).toString('hex'),
    ];
    const added = await this.recorded(queue, replication
      ? this.replicated.write(keys.list, (pipeline) => pipeline.nrbEnqueue(...args), replication).then((results) => results[0])
      : this.command.nrbEnqueue(...args));
    return added === 1 ? id : null;
  }

  /**
   * One transaction: a part of a batch never lands without the rest, so a
   * caller that sees a rejection knows whether retrying duplicates anything.
   */
  async enqueueMany(queue: string, payloads: readonly unknown[]): Promise<string[]> {
    // Tracing: one PRODUCER span for the batch, its context in every message.
    const tracer = activeTracer();
    if (tracer === undefined) return this.writeMany(queue, payloads, undefined);
    return traceSend(tracer, { destination: queue, batchCount: payloads.length }, (fields) => this.writeMany(queue, payloads, fields));
  }

  private async writeMany(queue: string, payloads: readonly unknown[], headers: Record<string, string> | undefined): Promise<string[]> {
    const keys = this.keys(queue);
    const count = payloads.length;
    const ids = new Array<string>(count);
    const jsons = new Array<string>(count);
    for (let i = 0; i < count; i += 1) {
      ids[i] = newMessageId();
      jsons[i] = encode(payloads[i]);
    }
    if (count === 0) return ids;
    const { list } = keys;
    // Every envelope of the batch shares its enqueue time and headers.
    const middle = envelopeMiddle(Date.now(), headers);
    // One LPUSH is atomic by itself: a batch of one chunk needs no transaction
    // (on the list bench MULTI/EXEC cost the producer a third of its CPU per
    // message and Redis a fifth). Encoded by `pushEnvelopes` (see there why).
    if (count <= BROKER_DEFAULTS.produceChunk) {
      await this.writeAllOrNone(queue, count, pushEnvelopes(this.command, list, { ids, middle, payloads: jsons }));
      return ids;
    }
    const bodies = jsons.map((json, i) => envelopeAround(ids[i], middle, json));
    const transaction = this.command.multi();
    // One LPUSH per chunk keeps order: the first payload is consumed first.
    const chunks: number[] = [];
    for (let i = 0; i < bodies.length; i += BROKER_DEFAULTS.produceChunk) {
      const chunk = bodies.slice(i, i + BROKER_DEFAULTS.produceChunk);
      transaction.lpush(list, ...chunk);
      chunks.push(chunk.length);
    }
    const results = await this.writeAllOrNone(queue, bodies.length, transaction.exec());
    // EXEC ran: a command can still fail inside it (WRONGTYPE); Redis does not roll back the others.
    const failure = results?.find(([error]) => error)?.[0];
    if (failure) {
      const stored = (results ?? []).reduce((sum, [error], i) => (error ? sum : sum + chunks[i]), 0);
      throw new EnqueueManyError(messages.enqueueManyFailed(queue, bodies.length, stored, errorText(failure)), queue, bodies.length, stored, { cause: failure });
    }
    return ids;
  }

  /**
   * `write` (one `LPUSH`, or `EXEC`) recorded; a failure becomes an
   * `EnqueueManyError`. A Redis reply (OOM, WRONGTYPE; `EXECABORT`: a command
   * refused while queued) means nothing was stored; any other failure may
   * have hit after the write ran.
   */
  private async writeAllOrNone<T>(queue: string, count: number, write: Promise<T>): Promise<T> {
    try {
      return await this.recorded(queue, write);
    } catch (error) {
      const stored = isReplyError(error) ? 0 : null;
      throw new EnqueueManyError(messages.enqueueManyFailed(queue, count, stored, errorText(error)), queue, count, stored, { cause: error });
    }
  }

  /** `write`, with the queue's first record in the registry sent beside it (one round trip for both). */
  private async recorded<T>(queue: string, write: Promise<T>): Promise<T> {
    const record = this.names.record('queue', queue);
    if (!record) return write;
    // Promise.all takes the write's rejection at once (a record never rejects).
    const [, result] = await Promise.all([record, write]);
    return result;
  }
}

function push(pipeline: ChainableCommander, priority: 'normal' | 'high', list: string, body: string): void {
  if (priority === 'high') pipeline.rpush(list, body);
  else pipeline.lpush(list, body);
}

/** Errors Redis replied with (ioredis' ReplyError), as opposed to connection failures. */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

function encode(payload: unknown): string {
  const body = JSON.stringify(payload);
  if (body === undefined) {
    throw new TypeError(`Cannot enqueue ${typeof payload}: payloads are JSON values`);
  }
  return body;
}

function validateEnqueueOptions(options: EnqueueOptions): void {
  for (const key of Object.keys(options)) {
    if (!ENQUEUE_KEYS.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(`enqueue.${key}`, ENQUEUE_KEYS));
  }
  const { delayMs, dedupTtlMs, priority, headers } = options;
  assertHeaders('enqueue.headers', headers);
  if (delayMs !== undefined && (!Number.isInteger(delayMs) || delayMs < 0)) {
    throw new InvalidBrokerOptionsError(messages.invalidOption('enqueue.delayMs', delayMs, 'a whole number of ms ≥ 0'));
  }
  if (dedupTtlMs !== undefined && (!Number.isInteger(dedupTtlMs) || dedupTtlMs < 1)) {
    throw new InvalidBrokerOptionsError(messages.invalidOption('enqueue.dedupTtlMs', dedupTtlMs, 'a whole number of ms ≥ 1'));
  }
  if (priority !== undefined && priority !== 'normal' && priority !== 'high') {
    throw new InvalidBrokerOptionsError(messages.invalidOption('enqueue.priority', priority, '"normal" or "high"'));
  }
}
