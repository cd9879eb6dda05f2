import { Inject, Injectable } from '@nestjs/common';
import { TimelineCache, TimelineStore, type Post } from '../../timeline-shared/src/index.js';

/** One page of a home timeline and where it was read from. */
export interface TimelinePage {
  userId: number;
  /** `cache` (LRANGE of the cached list), `database` (miss: built and cached), or `database-uncached` (page beyond the cache). */
  source: 'cache' | 'database' | 'database-uncached';
  offset: number;
  limit: number;
  posts: Post[];
}

/**
 * The read path: `LRANGE` the cached list; on a miss, build it from the
 * database, store it with a TTL, and answer from what was built.
 */
@Injectable()
export class TimelineReader {
  constructor(
    @Inject(TimelineStore) private readonly store: TimelineStore,
    @Inject(TimelineCache) private readonly cache: TimelineCache,
  ) {}

  async page(userId: number, offset: number, limit: number): Promise<TimelinePage> {
    if (!this.cache.covers(offset, limit)) {
      const ids = this.store.homeTimelineIds(userId, offset + limit).reverse().slice(offset);
      return { userId, source: 'database-uncached', offset, limit, posts: this.store.postsByIds(ids) };
    }
    const cached = await this.cache.readPage(userId, offset, limit);
    if (cached !== undefined) return { userId, source: 'cache', offset, limit, posts: this.store.postsByIds(cached) };

    const built = this.store.homeTimelineIds(userId, this.cache.options.maxLength);
    await this.cache.store(userId, built);
    // A post committed after the query above may have been fanned out before
    // the list existed (RPUSHX skipped it): drop the list, the next read
    // rebuilds it with the post.
    if (this.store.hasHomePostAfter(userId, built.at(-1) ?? 0)) await this.cache.invalidate(userId);
    const ids = built.slice().reverse().slice(offset, offset + limit);
    return { userId, source: 'database', offset, limit, posts: this.store.postsByIds(ids) };
  }
}
