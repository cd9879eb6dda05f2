import { Controller, Get } from '@nestjs/common';
import { BrokerClient } from 'nest-redis-broker';
import { ANALYTICS_EVENTS_KEY, ANALYTICS_LAST_SEEN_KEY } from '../../timeline-shared/src/index.js';

/** Window of "active" users. */
const ACTIVE_WINDOW_MS = 15 * 60_000;

/** What the worker's analytics group counted from `user-events`. */
export interface ActivityStats {
  /** Events per type (login, post, follow, unfollow). */
  events: Record<string, number>;
  /** Users with an event in the last 15 minutes. */
  activeUsers: number;
  /** Users ever seen on the stream. */
  knownUsers: number;
}

@Controller('stats')
export class StatsController {
  constructor(private readonly client: BrokerClient) {}

  @Get()
  async stats(): Promise<ActivityStats> {
    const redis = this.client.redis;
    const [events, activeUsers, knownUsers] = await Promise.all([
      redis.hgetall(ANALYTICS_EVENTS_KEY),
      redis.zcount(ANALYTICS_LAST_SEEN_KEY, Date.now() - ACTIVE_WINDOW_MS, '+inf'),
      redis.zcard(ANALYTICS_LAST_SEEN_KEY),
    ]);
    return { events: Object.fromEntries(Object.entries(events).map(([k, v]) => [k, Number(v)])), activeUsers, knownUsers };
  }
}
