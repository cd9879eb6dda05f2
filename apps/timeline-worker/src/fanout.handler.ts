import { Inject, Injectable } from '@nestjs/common';
import { BrokerClient, NonRetryableError, Payload, QueueHandler } from 'nest-redis-broker';
import { FANOUT_QUEUE, TimelineCache, notificationChannel, parseFanoutMessage, type PostNotification } from '../../timeline-shared/src/index.js';

/**
 * Fan-out on write, limited to cached timelines: a new post's id is appended
 * (`RPUSHX`, capped by `LTRIM`) to the timelines of its author and followers
 * that are cached now. A timeline that is not cached needs no maintenance; it
 * is built from the database on its next read. Then each follower's
 * notification channel gets the post (relayed live by the API over SSE).
 */
@Injectable()
export class FanoutHandler {
  constructor(
    @Inject(TimelineCache) private readonly cache: TimelineCache,
    private readonly client: BrokerClient,
  ) {}

  @QueueHandler(FANOUT_QUEUE, { concurrency: 4 })
  async fanout(@Payload() payload: unknown): Promise<void> {
    let message;
    try {
      message = parseFanoutMessage(payload);
    } catch (error) {
      throw new NonRetryableError(error instanceof Error ? error.message : String(error));
    }
    await this.cache.appendIfCached(message.recipientIds, message.postId);
    const notification: PostNotification = { type: 'post', postId: message.postId, authorId: message.authorId };
    await Promise.all(
      message.recipientIds.filter((id) => id !== message.authorId).map((id) => this.client.publish(notificationChannel(id), notification)),
    );
  }
}
