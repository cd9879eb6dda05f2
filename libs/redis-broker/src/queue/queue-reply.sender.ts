import { Logger } from '@nestjs/common';
import { replyListKeyStart } from '../core/keys.js';
import { messages } from '../core/messages.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { REPLY_TO_HEADER } from './queue-reply.wire.js';

/**
 * The worker side of request-reply: pushes a request's reply onto the reply
 * list its `nrb-reply-to` header names, with `RPUSH` and `PEXPIRE` in one
 * `MULTI` on that one key (its own Cluster slot, apart from the queue's keys).
 * Only a key of this key prefix's reply lists is written to: a message cannot
 * make the worker write anywhere else.
 */
export class QueueReplySender {
  private readonly logger = new Logger(QueueReplySender.name);
  private readonly keyStart: string;

  constructor(
    private readonly command: RedisClient,
    prefix: string,
    private readonly queue: string,
    private readonly ttlMs: number,
  ) {
    this.keyStart = replyListKeyStart(prefix);
  }

  /** The reply list a message's headers ask for; undefined when none (or a refused one, logged). */
  replyTo(headers: Readonly<Record<string, string>>, messageId: string): string | undefined {
    const replyTo = headers[REPLY_TO_HEADER];
    if (replyTo === undefined) return undefined;
    if (replyTo.startsWith(this.keyStart) && replyTo.endsWith('}')) return replyTo;
    this.logger.warn(messages.replyRefused(this.queue, messageId, replyTo));
    return undefined;
  }

  /** Rejects when Redis did not take it (the caller leaves the message unsettled: it runs again). */
  async send(replyTo: string, reply: string): Promise<void> {
    const results = await this.command.multi().rpush(replyTo, reply).pexpire(replyTo, this.ttlMs).exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (failure) throw failure;
  }
}
