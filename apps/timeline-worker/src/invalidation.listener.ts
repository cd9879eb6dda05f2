import { Inject, Injectable } from '@nestjs/common';
import { OnChannel, Payload } from 'nest-redis-broker';
import { INVALIDATION_CHANNEL, TimelineCache, parseInvalidationMessage } from '../../timeline-shared/src/index.js';

/**
 * Second, delayed invalidation of a cached timeline after a follow or
 * unfollow. The API already dropped the list when it changed the follows; a
 * read that queried the database just before that change may still have
 * stored the old list afterwards, and this later `DEL` removes it. Pub/sub is
 * at most once: a missed message leaves at worst a list that expires with its TTL.
 */
@Injectable()
export class InvalidationListener {
  constructor(@Inject(TimelineCache) private readonly cache: TimelineCache) {}

  @OnChannel(INVALIDATION_CHANNEL)
  async invalidate(@Payload() payload: unknown): Promise<void> {
    await this.cache.invalidate(parseInvalidationMessage(payload).userId);
  }
}
