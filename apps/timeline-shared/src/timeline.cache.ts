import type { RedisClient } from 'nest-redis-broker';
import { timelineKey } from './timeline.names.js';

/**
 * Marks a cached timeline that exists even when it holds no posts yet, so
 * that `RPUSHX` still appends to it. It sits at the head (oldest end) and is
 * trimmed away once the list is full, when no marker is needed any more.
 */
const EXISTS_MARKER = '-';

/** How the cache is bounded. */
export interface TimelineCacheOptions {
  /** Most post ids kept per cached timeline (`LTRIM`). */
  maxLength: number;
  /** Lifetime of a cached timeline from when it was built. */
  ttlSeconds: number;
}

/**
 * Cached home timelines in Redis: a list of post ids per user, oldest first.
 * The cache is never the source of truth: a missing or deleted list is
 * rebuilt from the database on the next read.
 */
export class TimelineCache {
  constructor(
    private readonly redis: RedisClient,
    readonly options: TimelineCacheOptions,
  ) {}

  /**
   * One page of a cached timeline, newest first; `undefined` on a miss.
   * Pages beyond `maxLength` are not cached (the caller reads the database).
   * Ids are de-duplicated: fan-out is at-least-once.
   */
  async readPage(userId: number, offset: number, limit: number): Promise<number[] | undefined> {
    const key = timelineKey(userId);
    const [length, slice] = await Promise.all([
      this.redis.llen(key),
      this.redis.lrange(key, -(offset + limit), -(offset + 1)),
    ]);
    if (length === 0) return undefined;
    const ids = slice.filter((v) => v !== EXISTS_MARKER).map(Number).reverse();
    return [...new Set(ids)];
  }

  /** Whether a page lies within what the cache keeps. */
  covers(offset: number, limit: number): boolean {
    return offset + limit <= this.options.maxLength;
  }

  /** Replaces a user's cached timeline with `ids` (oldest first), expiring after the TTL. */
  async store(userId: number, ids: readonly number[]): Promise<void> {
    const key = timelineKey(userId);
    await this.redis
      .multi()
      .del(key)
      .rpush(key, EXISTS_MARKER, ...ids.slice(-this.options.maxLength).map(String))
      .expire(key, this.options.ttlSeconds)
      .exec();
  }

  /**
   * Appends `postId` to each listed user's timeline that is cached right now
   * (`RPUSHX`), keeping the newest `maxLength` (`LTRIM`). Users without a
   * cached timeline are skipped: their next read builds it from the database.
   * Resolves to how many timelines got the post.
   */
  async appendIfCached(userIds: readonly number[], postId: number): Promise<number> {
    const results = await Promise.all(
      userIds.map(async (userId) => {
        const key = timelineKey(userId);
        const length = await this.redis.rpushx(key, String(postId));
        if (length > this.options.maxLength) await this.redis.ltrim(key, -this.options.maxLength, -1);
        return length > 0 ? 1 : 0;
      }),
    );
    return results.reduce<number>((a, b) => a + b, 0);
  }

  /** Drops a user's cached timeline; the next read rebuilds it. */
  async invalidate(userId: number): Promise<void> {
    await this.redis.del(timelineKey(userId));
  }
}
