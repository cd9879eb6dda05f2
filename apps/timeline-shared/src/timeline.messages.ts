// What travels between the API and the worker. Everything arriving from Redis
// is `unknown` and narrowed here, in one step that returns a value or throws.

/** Queue message: append `postId` to the cached timelines of `recipientIds` (the author and a slice of their followers) and notify those who are not the author. */
export interface FanoutMessage {
  postId: number;
  authorId: number;
  recipientIds: number[];
}

/** A `user-events` stream entry, as a flat field map of strings. */
export interface UserEventFields {
  userId: string;
  eventType: UserEventType;
  data: string;
  timestamp: string;
}

export type UserEventType = 'login' | 'post' | 'follow' | 'unfollow';

/** Pub/sub message on a user's notification channel. */
export interface PostNotification {
  type: 'post';
  postId: number;
  authorId: number;
}

/** Pub/sub message on the invalidation channel. */
export interface InvalidationMessage {
  userId: number;
}

export function parseFanoutMessage(value: unknown): FanoutMessage {
  const v = record(value, 'fanout message');
  const recipientIds = v.recipientIds;
  if (!Array.isArray(recipientIds) || !recipientIds.every(isId)) throw new Error('fanout message: recipientIds must be an array of ids');
  return { postId: id(v.postId, 'postId'), authorId: id(v.authorId, 'authorId'), recipientIds: recipientIds };
}

export function parseInvalidationMessage(value: unknown): InvalidationMessage {
  return { userId: id(record(value, 'invalidation message').userId, 'userId') };
}

export function parseUserEventFields(value: unknown): UserEventFields {
  const v = record(value, 'user event');
  const eventType = v.eventType;
  if (eventType !== 'login' && eventType !== 'post' && eventType !== 'follow' && eventType !== 'unfollow') {
    throw new Error(`user event: unknown eventType ${String(eventType)}`);
  }
  if (typeof v.userId !== 'string' || !/^\d+$/.test(v.userId)) throw new Error('user event: userId must be a decimal string');
  return { userId: v.userId, eventType, data: typeof v.data === 'string' ? v.data : '', timestamp: typeof v.timestamp === 'string' ? v.timestamp : '' };
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what}: expected an object`);
  return value as Record<string, unknown>;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function id(value: unknown, name: string): number {
  if (!isId(value)) throw new Error(`${name} must be a positive integer`);
  return value;
}
