import { describe, expect, it } from 'vitest';
import { assertValidHook, filterHearsNothing, hookFilterMatcher } from '../../libs/redis-broker/src/discovery/broker-event-hook.rules.js';
import { InvalidBrokerOptionsError } from '../../libs/redis-broker/src/core/errors/invalid-broker-options.error.js';

const TARGET = 'Audit@onEvent';

function rejection(event: unknown, filter?: unknown): string {
  try {
    assertValidHook(TARGET, event, filter);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify([event, filter])}`);
}

describe('assertValidHook', () => {
  it('accepts every documented event with no filter', () => {
    for (const event of ['handled', 'failed', 'retrying', 'dead-lettered', 'reclaimed', 'dropped']) {
      expect(() => assertValidHook(TARGET, event, undefined)).not.toThrow();
    }
  });

  it('rejects an unknown event, naming the method, the value and the known events', () => {
    const message = rejection('deadLettered');
    expect(message).toContain(TARGET);
    expect(message).toContain('"deadLettered"');
    expect(message).toContain("'dead-lettered'");
  });

  it('rejects an event that is not a string', () => {
    expect(rejection(42)).toContain('42');
  });

  it('accepts a filter of the source kinds that emit the event', () => {
    expect(() => assertValidHook(TARGET, 'retrying', { queue: 'emails' })).not.toThrow();
    expect(() => assertValidHook(TARGET, 'reclaimed', { stream: 's', group: 'g' })).not.toThrow();
    expect(() => assertValidHook(TARGET, 'failed', { group: 'g' })).not.toThrow();
    expect(() => assertValidHook(TARGET, 'dropped', { channel: 'news' })).not.toThrow();
    expect(() => assertValidHook(TARGET, 'handled', {})).not.toThrow();
  });

  it('rejects a channel filter on an event channels never emit', () => {
    for (const event of ['retrying', 'dead-lettered', 'reclaimed']) {
      const message = rejection(event, { channel: 'news' });
      expect(message).toContain(TARGET);
      expect(message).toContain('channel');
    }
  });

  it('rejects a queue or stream filter on dropped, which only channels emit', () => {
    expect(rejection('dropped', { queue: 'emails' })).toContain('never emitted for a queue');
    expect(rejection('dropped', { stream: 's' })).toContain('never emitted for a stream');
  });

  it('rejects a filter mixing source kinds', () => {
    expect(rejection('handled', { queue: 'a', channel: 'b' })).toContain('one kind of source');
  });

  it('rejects an unknown filter key, naming it', () => {
    expect(rejection('handled', { topic: 'a' })).toContain('filter.topic');
  });

  it('rejects an empty or non-string filter value', () => {
    expect(rejection('handled', { queue: '' })).toContain('filter.queue');
    expect(rejection('handled', { stream: 7 })).toContain('filter.stream');
  });

  it('rejects a filter that is not an object', () => {
    expect(rejection('handled', 'emails')).toContain('"emails"');
    expect(rejection('handled', null)).toContain('filter');
  });
});

describe('hookFilterMatcher', () => {
  const groups = [
    { stream: 'orders', group: 'billing' },
    { stream: 'orders', group: 'shipping' },
    { stream: 'a/b', group: 'c' },
    { stream: 'a', group: 'b/c' },
  ];

  it('matches every source without a filter', () => {
    const matches = hookFilterMatcher(undefined, groups);
    expect(matches({ kind: 'queue', source: 'x' })).toBe(true);
    expect(matches({ kind: 'channel', source: 'y' })).toBe(true);
  });

  it('matches one queue by name, and no other kind of the same name', () => {
    const matches = hookFilterMatcher({ queue: 'emails' }, groups);
    expect(matches({ kind: 'queue', source: 'emails' })).toBe(true);
    expect(matches({ kind: 'queue', source: 'sms' })).toBe(false);
    expect(matches({ kind: 'channel', source: 'emails' })).toBe(false);
  });

  it('matches one channel by name', () => {
    const matches = hookFilterMatcher({ channel: 'news' }, groups);
    expect(matches({ kind: 'channel', source: 'news' })).toBe(true);
    expect(matches({ kind: 'channel', source: 'sport' })).toBe(false);
    expect(matches({ kind: 'queue', source: 'news' })).toBe(false);
  });

  it('matches every group of a stream, one group of a stream, or one group on every stream', () => {
    const stream = hookFilterMatcher({ stream: 'orders' }, groups);
    expect(stream({ kind: 'stream', source: 'orders/billing' })).toBe(true);
    expect(stream({ kind: 'stream', source: 'orders/shipping' })).toBe(true);
    expect(stream({ kind: 'queue', source: 'orders' })).toBe(false);
    const both = hookFilterMatcher({ stream: 'orders', group: 'billing' }, groups);
    expect(both({ kind: 'stream', source: 'orders/billing' })).toBe(true);
    expect(both({ kind: 'stream', source: 'orders/shipping' })).toBe(false);
    const group = hookFilterMatcher({ group: 'shipping' }, groups);
    expect(group({ kind: 'stream', source: 'orders/shipping' })).toBe(true);
    expect(group({ kind: 'stream', source: 'orders/billing' })).toBe(false);
  });

  it('tells apart stream and group names that contain a slash', () => {
    const matches = hookFilterMatcher({ stream: 'a' }, groups);
    // "a/b/c" is both stream "a/b" group "c" and stream "a" group "b/c": the filter asks for stream "a".
    expect(matches({ kind: 'stream', source: 'a/b/c' })).toBe(true);
    const other = hookFilterMatcher({ stream: 'a/b', group: 'x' }, groups);
    expect(other({ kind: 'stream', source: 'a/b/c' })).toBe(false);
  });
});

describe('filterHearsNothing', () => {
  const queues = ['emails'];
  const groups = [{ stream: 'orders', group: 'billing' }];

  it('flags a queue or stream filter that names nothing this app consumes', () => {
    expect(filterHearsNothing({ queue: 'email' }, queues, groups)).toBe(true);
    expect(filterHearsNothing({ stream: 'order' }, queues, groups)).toBe(true);
    expect(filterHearsNothing({ stream: 'orders', group: 'shipping' }, queues, groups)).toBe(true);
    expect(filterHearsNothing({ group: 'shipping' }, queues, groups)).toBe(true);
  });

  it('accepts filters that name a consumed source, no filter, and any channel', () => {
    expect(filterHearsNothing({ queue: 'emails' }, queues, groups)).toBe(false);
    expect(filterHearsNothing({ stream: 'orders' }, queues, groups)).toBe(false);
    expect(filterHearsNothing({ group: 'billing' }, queues, groups)).toBe(false);
    expect(filterHearsNothing(undefined, queues, groups)).toBe(false);
    expect(filterHearsNothing({}, queues, groups)).toBe(false);
    // Run-time subscriptions add channels after bootstrap.
    expect(filterHearsNothing({ channel: 'anything' }, queues, groups)).toBe(false);
  });
});
