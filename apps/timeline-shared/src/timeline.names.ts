// Every queue, stream, group, channel and Redis key name of the timeline
// sample, in one place: the API writes them, the worker reads them.

/** List queue: one message per new post and slice of its author's followers. */
export const FANOUT_QUEUE = 'timeline-fanout';
/** Stream of user activity (logins, posts, follows). */
export const USER_EVENTS_STREAM = 'user-events';
/** Consumer group of the worker's analytics on `user-events`. */
export const ANALYTICS_GROUP = 'analytics';
/** Channel: a user's cached timeline is stale (their follows changed). */
export const INVALIDATION_CHANNEL = 'timeline-invalidations';

/** Channel of one user's live notifications (relayed over SSE by the API). */
export function notificationChannel(userId: number): string {
  return `notifications:${userId}`;
}

/** The cached home timeline of a user: a list of post ids, oldest first. */
export function timelineKey(userId: number): string {
  return `timeline:${userId}`;
}

/** Hash: events seen on `user-events`, per event type. */
export const ANALYTICS_EVENTS_KEY = 'analytics:events';
/** Sorted set: user id → epoch ms of their last event. */
export const ANALYTICS_LAST_SEEN_KEY = 'analytics:last-seen';
