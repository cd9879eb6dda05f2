import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { BrokerClient } from 'nest-redis-broker';
import { FANOUT_QUEUE, INVALIDATION_CHANNEL, TimelineCache, TimelineStore, USER_EVENTS_STREAM, type FanoutMessage, type Post, type User, type UserEventType } from '../../timeline-shared/src/index.js';

/** Recipients per fan-out message: a post of a popular author becomes several messages. */
const FANOUT_SLICE = 500;

/**
 * The write side of the API: users, follows and posts go to the database
 * first (the source of truth), then the broker carries the consequences:
 * fan-out to cached timelines (queue), activity for analytics (stream).
 */
@Injectable()
export class SocialService {
  private readonly logger = new Logger(SocialService.name);

  constructor(
    @Inject(TimelineStore) private readonly store: TimelineStore,
    @Inject(TimelineCache) private readonly cache: TimelineCache,
    private readonly broker: BrokerClient,
  ) {}

  createUser(name: string): User | undefined {
    return this.store.createUser(name);
  }

  /** Records a login on the `user-events` stream (there are no passwords in the sample). */
  async login(id: number): Promise<User> {
    const user = this.user(id);
    await this.recordEvent(id, 'login', '');
    return user;
  }

  user(id: number): User {
    const user = this.store.findUser(id);
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }

  /** `true` when the follow is new; the follower's cached timeline is then stale. */
  async follow(followerId: number, followeeId: number): Promise<boolean> {
    this.user(followerId);
    this.user(followeeId);
    const created = this.store.follow(followerId, followeeId);
    if (created) {
      await this.invalidate(followerId);
      await this.recordEvent(followerId, 'follow', String(followeeId));
    }
    return created;
  }

  /** `true` when there was a follow to remove. */
  async unfollow(followerId: number, followeeId: number): Promise<boolean> {
    this.user(followerId);
    const removed = this.store.unfollow(followerId, followeeId);
    if (removed) {
      await this.invalidate(followerId);
      await this.recordEvent(followerId, 'unfollow', String(followeeId));
    }
    return removed;
  }

  /** Stores the post, then queues its fan-out to the author's and every follower's cached timeline. */
  async createPost(authorId: number, body: string): Promise<Post> {
    this.user(authorId);
    const post = this.store.createPost(authorId, body);
    const recipients = [authorId, ...this.store.followerIds(authorId)];
    const messages: FanoutMessage[] = [];
    for (let i = 0; i < recipients.length; i += FANOUT_SLICE) {
      messages.push({ postId: post.id, authorId, recipientIds: recipients.slice(i, i + FANOUT_SLICE) });
    }
    await this.broker.enqueueMany(FANOUT_QUEUE, messages);
    await this.recordEvent(authorId, 'post', String(post.id));
    return post;
  }

  /**
   * Drops the cached timeline now (the next read sees the new follows) and
   * asks the worker for a second drop, which removes a list that a read
   * running concurrently with this change stored from the old follows.
   */
  private async invalidate(userId: number): Promise<void> {
    await this.cache.invalidate(userId);
    await this.broker.publish(INVALIDATION_CHANNEL, { userId });
  }

  /**
   * Appends to `user-events`. Analytics are not worth failing a request that
   * the database already committed: an append that fails is logged.
   */
  private async recordEvent(userId: number, eventType: UserEventType, data: string): Promise<void> {
    try {
      await this.broker.append(USER_EVENTS_STREAM, { userId, eventType, data, timestamp: Date.now() });
    } catch (error) {
      this.logger.warn(`Could not record ${eventType} of user ${userId} on ${USER_EVENTS_STREAM}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
