import { Inject, Injectable } from '@nestjs/common';
import { BrokerClient, NonRetryableError, Payload, StreamConsumer } from 'nest-redis-broker';
import { ANALYTICS_EVENTS_KEY, ANALYTICS_GROUP, ANALYTICS_LAST_SEEN_KEY, USER_EVENTS_STREAM, parseUserEventFields } from '../../timeline-shared/src/index.js';

/**
 * Group `analytics` on the `user-events` stream: counts events per type and
 * remembers when each user was last active (the API's `/stats`). Counting is
 * at-least-once: an entry redelivered after a crash is counted again.
 */
@Injectable()
export class AnalyticsConsumer {
  constructor(@Inject(BrokerClient) private readonly client: BrokerClient) {}

  @StreamConsumer({ stream: USER_EVENTS_STREAM, group: ANALYTICS_GROUP, concurrency: 4 })
  async track(@Payload() fields: unknown): Promise<void> {
    let event;
    try {
      event = parseUserEventFields(fields);
    } catch (error) {
      throw new NonRetryableError(error instanceof Error ? error.message : String(error));
    }
    const at = Number(event.timestamp) || Date.now();
    await this.client.redis
      .multi()
      .hincrby(ANALYTICS_EVENTS_KEY, event.eventType, 1)
      .zadd(ANALYTICS_LAST_SEEN_KEY, 'GT', at, event.userId)
      .exec();
  }
}
