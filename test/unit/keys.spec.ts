import { describe, expect, it } from 'vitest';
import { InvalidBrokerOptionsError } from '../../libs/redis-broker/src/core/errors/invalid-broker-options.error.js';
import { assertValidName, channelName, channelPattern, QueueKeys, RegistryKeys, StreamKeys } from '../../libs/redis-broker/src/core/keys.js';

/** The part of a key Redis Cluster hashes: the first non-empty `{...}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

describe('assertValidName', () => {
  it.each(['orders', 'a', 'x'.repeat(200), 'user:events.v2', 'ключ', 'a*b?[c]'])('accepts %j', (name) => {
    expect(() => assertValidName('queue', name)).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(201), 'over 200 characters'],
    ['two words', 'a space'],
    ['tab\there', 'a tab'],
    ['line\nbreak', 'a newline'],
    ['bell\u0007', 'a control character'],
    ['a{b', 'an opening brace'],
    ['a}b', 'a closing brace'],
  ])('rejects %j (%s), naming the kind and the name', (name) => {
    expect(() => assertValidName('stream', name)).toThrow(InvalidBrokerOptionsError);
    expect(() => assertValidName('stream', name)).toThrow(`Invalid stream name ${JSON.stringify(name)}`);
  });

  it('rejects a name that is not a string', () => {
    expect(() => assertValidName('queue', 42)).toThrow('Invalid queue name 42');
    expect(() => assertValidName('queue', undefined)).toThrow('Invalid queue name undefined');
  });
});

describe('QueueKeys', () => {
  it('names the list plainly, so any client can LPUSH to it, and the broker keys after it', () => {
    const keys = new QueueKeys('orders', 'app:');
    expect(keys.list).toBe('app:orders');
    expect([keys.consumers, keys.delayed, keys.attempts, keys.deaths, keys.deadIndex, keys.deadRecords, keys.deadMessages]).toEqual([
      '{app:orders}:consumers',
      '{app:orders}:delayed',
      '{app:orders}:attempts',
      '{app:orders}:deaths',
      '{app:orders}:dead',
      '{app:orders}:dead:records',
      '{app:orders}:dead:messages',
    ]);
    expect(keys.processing('host:1:ab')).toBe('{app:orders}:processing:host:1:ab');
    expect(keys.waiting('c1')).toBe('{app:orders}:waiting:c1');
    expect(keys.alive('c1')).toBe('{app:orders}:alive:c1');
    expect(keys.dedup('order-7')).toBe('{app:orders}:dedup:order-7');
  });

  it('puts every key of a queue in the Cluster slot of its list', () => {
    const keys = new QueueKeys('orders', 'app:');
    const all = [
      keys.list, keys.consumers, keys.delayed, keys.attempts, keys.deaths, keys.deadIndex, keys.deadRecords, keys.deadMessages,
      keys.processing('c'), keys.waiting('c'), keys.alive('c'), keys.dedup('d'),
    ];
    expect(new Set(all.map(hashTag))).toEqual(new Set(['app:orders']));
    expect(hashTag(new QueueKeys('orders', '').processing('c'))).toBe('orders');
  });

  it('matches only its own processing lists, whatever glob characters the name holds', () => {
    expect(new QueueKeys('jobs', '').processingPattern()).toBe('{jobs}:processing:*');
    expect(new QueueKeys('a*b?[c]\\', 'p:').processingPattern()).toBe('{p:a\\*b\\?\\[c\\]\\\\}:processing:*');
  });

  it('refuses a queue name or dedup key that would break the layout', () => {
    expect(() => new QueueKeys('a}b', '')).toThrow('Invalid queue name "a}b"');
    expect(() => new QueueKeys('ok', '').dedup('has space')).toThrow('Invalid dedupKey name "has space"');
  });
});

describe('StreamKeys', () => {
  it('names the stream plainly and its dead-letter and requeue streams in its slot', () => {
    const keys = new StreamKeys('events', 'app:');
    expect(keys.stream).toBe('app:events');
    expect(keys.deadLetter('billing')).toBe('{app:events}:dead:billing');
    expect(keys.requeue('billing')).toBe('{app:events}:requeue:billing');
    expect(new Set([keys.stream, keys.deadLetter('g'), keys.requeue('g')].map(hashTag))).toEqual(new Set(['app:events']));
  });

  it('refuses a stream or group name that would escape the hash tag', () => {
    expect(() => new StreamKeys('', 'app:')).toThrow('Invalid stream name ""');
    expect(() => new StreamKeys('events', '').deadLetter('g}x')).toThrow('Invalid group name "g}x"');
    expect(() => new StreamKeys('events', '').requeue('{g')).toThrow('Invalid group name "{g"');
  });
});

describe('channel names', () => {
  it('prefixes a channel name', () => {
    expect(channelName('app:', 'news')).toBe('app:news');
    expect(channelName('', 'news')).toBe('news');
    expect(() => channelName('app:', 'bad name')).toThrow('Invalid channel name "bad name"');
  });

  it('escapes the glob characters of the prefix but keeps those of the pattern', () => {
    expect(channelPattern('t*[1]?:', 'user.*')).toBe('t\\*\\[1\\]\\?:user.*');
    expect(channelPattern('', 'a.?')).toBe('a.?');
    expect(() => channelPattern('', '')).toThrow('Invalid channel pattern name ""');
  });
});

describe('RegistryKeys', () => {
  it('keeps both registry sets under the prefix\'s hash tag', () => {
    const keys = new RegistryKeys('app:');
    expect([keys.queues, keys.streams]).toEqual(['{app:}:registry:queues', '{app:}:registry:streams']);
    expect(hashTag(keys.queues)).toBe(hashTag(keys.streams));
  });

  it('uses an empty tag without a prefix, which no queue or stream key has', () => {
    const keys = new RegistryKeys('');
    expect([keys.queues, keys.streams]).toEqual(['{}:registry:queues', '{}:registry:streams']);
    // `{}` is no hash tag: each set is hashed whole.
    expect(hashTag(keys.queues)).toBe(keys.queues);
  });
});
