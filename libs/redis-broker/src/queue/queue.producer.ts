import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { InvalidBrokerOptionsError } from '../errors/invalid-broker-options.error.js';
import { QueueKeys } from '../keys.js';
import { messages } from '../messages.js';
import { BROKER_DEFAULTS } from '../redis-broker.options.js';
import { BoundedCache } from '../runtime/bounded-cache.js';

/**
 * Options of one enqueue.
 * @publicApi
 */
export interface EnqueueOptions {
  /** Deliver no sooner than this many ms from now (kept in the queue's delayed set meanwhile). */
  delayMs?: number;
  /** Skip this message if one with the same key was enqueued within `dedupTtlMs`. */
  dedupKey?: string;
  /** How long a `dedupKey` is remembered. Default 1 hour. */
  dedupTtlMs?: number;
  /** `high` puts the message at the consuming end: it is taken next. Default `normal` (first in, first out). */
  priority?: 'normal' | 'high';
}

const DEFAULT_DEDUP_TTL_MS = 3_600_000;
const ENQUEUE_MANY_CHUNK = 1_000;
const ENQUEUE_KEYS = ['delayMs', 'dedupKey', 'dedupTtlMs', 'priority'];

/** Writes list messages: a bare `LPUSH` of the JSON text when no option asks for more. */
export class QueueProducer {
  private readonly keysByQueue = new BoundedCache<QueueKeys>(BROKER_DEFAULTS.producerKeyCacheSize);

  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
  ) {}

  keys(queue: string): QueueKeys {
    return this.keysByQueue.get(queue, (name) => new QueueKeys(name, this.prefix));
  }

  async enqueue(queue: string, payload: unknown, options: EnqueueOptions = {}): Promise<boolean> {
    const keys = this.keys(queue);
    const body = encode(payload);
    validateEnqueueOptions(options);
    const { delayMs = 0, dedupKey, dedupTtlMs = DEFAULT_DEDUP_TTL_MS, priority = 'normal' } = options;
    if (delayMs === 0 && dedupKey === undefined) {
      if (priority === 'high') await this.command.rpush(keys.list, body);
      else await this.command.lpush(keys.list, body);
      return true;
    }
    const dedupMarker = dedupKey === undefined ? keys.delayed : keys.dedup(dedupKey);
    const added = await this.command.nrbEnqueue(
      keys.list, keys.delayed, dedupMarker,
      body, delayMs, dedupKey === undefined ? 0 : dedupTtlMs, priority, randomBytes(8).toString('hex'),
    );
    return added === 1;
  }

  async enqueueMany(queue: string, payloads: readonly unknown[]): Promise<number> {
    const keys = this.keys(queue);
    const bodies = payloads.map(encode);
    if (bodies.length === 0) return 0;
    const pipeline = this.command.pipeline();
    // One LPUSH per chunk keeps order: the first payload is consumed first.
    for (let i = 0; i < bodies.length; i += ENQUEUE_MANY_CHUNK) pipeline.lpush(keys.list, ...bodies.slice(i, i + ENQUEUE_MANY_CHUNK));
    const results = await pipeline.exec();
    for (const [error] of results ?? []) if (error) throw error;
    return bodies.length;
  }
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
  const { delayMs, dedupTtlMs, priority } = options;
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
