import { describe, expect, it } from 'vitest';
import { messages } from '../../libs/redis-broker/src/core/messages.js';

describe('messages', () => {
  it('names the option, the value as JSON and what is accepted', () => {
    expect(messages.invalidOption('queueDefaults.mode', 'turbo', '"reliable" or "fast"')).toBe(
      'Invalid nest-redis-broker option "queueDefaults.mode": got "turbo"; accepted: "reliable" or "fast".',
    );
    expect(messages.invalidOption('x', { a: [1] }, 'y')).toContain('got {"a":[1]};');
    expect(messages.invalidOption('x', null, 'y')).toContain('got null;');
  });

  it('describes values that JSON cannot show', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(messages.invalidOption('x', undefined, 'y')).toContain('got undefined;');
    expect(messages.invalidOption('x', () => 1, 'y')).toContain('got a function;');
    expect(messages.invalidOption('x', Symbol('s'), 'y')).toContain('got a symbol;');
    expect(messages.invalidOption('x', 10n, 'y')).toContain('got a bigint;');
    expect(messages.invalidOption('x', circular, 'y')).toContain('got an unserialisable object;');
    expect(messages.invalidName('queue', 7, 'why')).toBe('Invalid queue name 7: why.');
  });

  it('lists the known options of an unknown one', () => {
    expect(messages.unknownOption('queueDefaults.retries', ['mode', 'concurrency'])).toBe(
      'Unknown nest-redis-broker option "queueDefaults.retries"; known options here: mode, concurrency.',
    );
  });

  it('names the kind of source two duplicate handlers compete for', () => {
    expect(messages.duplicateHandler('queue:orders', 'A@handle', 'B@handle')).toContain('One consumer per queue and process');
  });

  it('says how much of a failed enqueueMany was stored, in each of the three cases', () => {
    expect(messages.enqueueManyFailed('q', 5, null, 'ECONNRESET')).toContain('Redis stored all 5 messages or none');
    expect(messages.enqueueManyFailed('q', 5, 0, 'OOM')).toContain('None of its 5 messages was stored');
    expect(messages.enqueueManyFailed('q', 5, 2, 'OOM')).toContain('2 of its 5 messages were stored.');
  });

  it('counts suppressed channel failures only when there were some', () => {
    expect(messages.channelHandlerFailed('L@h', 'channel "c"', 'boom', 0)).toBe('L@h failed on a message of channel "c": boom');
    expect(messages.channelHandlerFailed('L@h', 'channel "c"', 'boom', 3)).toMatch(/\(3 more failure\(s\) since the last report\)$/);
    expect(messages.channelUnparsable('L@h', 'c', 'bad', 0)).not.toContain('more since');
    expect(messages.channelUnparsable('L@h', 'c', 'bad', 2)).toContain('(2 more since the last report)');
  });

  it('writes one entry and several entries in a stream takeover', () => {
    expect(messages.streamTakenOver('s', 'g', 'c', 1, 100)).toContain('took over 1 entry of s');
    expect(messages.streamTakenOver('s', 'g', 'c', 2, 100)).toContain('took over 2 entries of s');
  });
});
