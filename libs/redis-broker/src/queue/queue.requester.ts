import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertHeaders, newMessageId } from '../core/envelope.js';
import { errorText } from '../core/error-text.js';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { RequestFailedError } from '../core/errors/request-failed.error.js';
import { RequestTimeoutError } from '../core/errors/request-timeout.error.js';
import { replyListKey } from '../core/keys.js';
import { messages } from '../core/messages.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { QueueProducer } from './queue.producer.js';
import { readReply, REPLY_TO_HEADER } from './queue-reply.wire.js';

/**
 * Options of one `BrokerClient.request`.
 * @publicApi
 */
export interface RequestOptions {
  /** How long to wait for the reply, in ms (a whole number ≥ 1). Default `BROKER_DEFAULTS.requestTimeoutMs` (30 s). */
  timeoutMs?: number;
  /** Headers carried beside the payload (`ctx.headers`), as `enqueue`'s; `nrb-reply-to` is the broker's own. */
  headers?: Record<string, string>;
}

/** The longest delay `setTimeout` keeps (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;
const REQUEST_KEYS = new Set(['timeoutMs', 'headers']);

interface PendingRequest {
  queue: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The requester side of request-reply: sends each request as an ordinary
 * queue message whose `nrb-reply-to` header names this client's reply list,
 * and reads that list with ONE blocking connection, opened on the first
 * request and closed by `stop`, looping `BLPOP <list> <replyBlockSeconds>`.
 * Replies wait in the list while the connection is down (ioredis reconnects
 * and the loop carries on), so a blink loses nothing; each pending request
 * has its own timer, which fires whatever the connection does. A reply to
 * nothing pending (late, or the second of a message run twice) is dropped.
 */
export class QueueRequester {
  private readonly logger = new Logger(QueueRequester.name);
  private readonly pending = new Map<string, PendingRequest>();
  /** This client's reply list: `<prefix>nrb:replies:{<random id>}`. */
  readonly replyList: string;
  private connection: RedisClient | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly producer: QueueProducer,
    prefix: string,
    private readonly openConnection: () => RedisClient,
    private readonly closeConnection: (connection: RedisClient) => Promise<void>,
  ) {
    this.replyList = replyListKey(prefix, randomBytes(9).toString('base64url'));
  }

  /** Requests not answered yet (for tests and shutdown). */
  get pendingCount(): number {
    return this.pending.size;
  }

  request(queue: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    try {
      validateRequestOptions(options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(errorText(error)));
    }
    if (this.stopping) return Promise.reject(new Error(messages.requestAfterStop(queue)));
    const timeoutMs = options.timeoutMs ?? BROKER_DEFAULTS.requestTimeoutMs;
    const id = newMessageId();
    this.startLoop();
    const headers = { ...options.headers, [REPLY_TO_HEADER]: this.replyList };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new RequestTimeoutError(queue, id, timeoutMs));
      }, timeoutMs);
      // Registered before the message exists: its reply may arrive before the LPUSH's own reply does.
      this.pending.set(id, { queue, resolve, reject, timer });
      this.producer.enqueue(queue, payload, { headers }, id).catch((error: unknown) => {
        this.take(id)?.reject(error instanceof Error ? error : new Error(errorText(error)));
      });
    });
  }

  /**
   * Ends the loop and closes its connection; requests still waiting reject
   * (their messages stay queued and may still run; their replies expire).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const [id, request] of [...this.pending]) {
      this.take(id);
      request.reject(new Error(messages.requestStopped(request.queue, id)));
    }
    const { connection } = this;
    if (!connection) return;
    // Not QUIT: it would wait behind the BLPOP for up to replyBlockSeconds.
    connection.disconnect();
    await this.loop;
    await this.closeConnection(connection);
  }

  private startLoop(): void {
    if (this.connection) return;
    const connection = this.openConnection();
    this.connection = connection;
    this.loop = this.run(connection);
  }

  private async run(connection: RedisClient): Promise<void> {
    const { initial, max } = BROKER_DEFAULTS.fetchErrorBackoffMs;
    let retryInMs: number = initial;
    while (!this.stopping) {
      let popped: [string, string] | null;
      try {
        popped = await connection.blpop(this.replyList, BROKER_DEFAULTS.replyBlockSeconds);
        retryInMs = initial;
      } catch (error) {
        if (this.stopping) return;
        this.logger.warn(messages.replyLoopError(this.replyList, errorText(error), retryInMs));
        await sleep(retryInMs);
        retryInMs = Math.min(max, retryInMs * 2);
        continue;
      }
      if (popped) this.deliver(popped[1]);
    }
  }

  private deliver(text: string): void {
    const reply = readReply(text);
    if (!reply) {
      this.logger.warn(messages.replyDropped(this.replyList, text.slice(0, 200)));
      return;
    }
    const request = this.take(reply.id);
    // Late (timed out) or a duplicate (the message ran twice): nobody waits for it.
    if (!request) return;
    if (reply.ok) request.resolve(reply.value);
    else request.reject(new RequestFailedError(request.queue, reply.id, reply.reason, reply.error));
  }

  private take(id: string): PendingRequest | undefined {
    const request = this.pending.get(id);
    if (!request) return undefined;
    this.pending.delete(id);
    clearTimeout(request.timer);
    return request;
  }
}

function validateRequestOptions(options: RequestOptions): void {
  for (const key of Object.keys(options)) {
    if (!REQUEST_KEYS.has(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(`request.${key}`, [...REQUEST_KEYS]));
  }
  const { timeoutMs, headers } = options;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMER_MS)) {
    throw new InvalidBrokerOptionsError(messages.invalidOption('request.timeoutMs', timeoutMs, `a whole number of ms from 1 to ${MAX_TIMER_MS}`));
  }
  assertHeaders('request.headers', headers);
}
