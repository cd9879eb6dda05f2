import { describe, expect, it } from 'vitest';
import { replyListKey, replyListKeyStart } from '../../libs/redis-broker/src/core/keys.js';
import { encodeFailureReply, encodeSuccessReply, readReply } from '../../libs/redis-broker/src/queue/queue-reply.wire.js';

describe('request-reply replies', () => {
  it('encodes a return value as JSON and reads it back', () => {
    const text = encodeSuccessReply('req1', { total: 3, items: ['a'] });
    expect(text).toBe('{"id":"req1","ok":true,"v":{"total":3,"items":["a"]}}');
    expect(readReply(text)).toEqual({ id: 'req1', ok: true, value: { total: 3, items: ['a'] } });
  });

  it('sends undefined as null and keeps falsy values', () => {
    expect(readReply(encodeSuccessReply('r', undefined))).toEqual({ id: 'r', ok: true, value: null });
    expect(readReply(encodeSuccessReply('r', 0))).toEqual({ id: 'r', ok: true, value: 0 });
    expect(readReply(encodeSuccessReply('r', ''))).toEqual({ id: 'r', ok: true, value: '' });
    expect(readReply(encodeSuccessReply('r', false))).toEqual({ id: 'r', ok: true, value: false });
  });

  it('turns a value JSON cannot encode into a failure reply', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const reply = readReply(encodeSuccessReply('r', cycle));
    expect(reply).toMatchObject({ id: 'r', ok: false, reason: 'unencodable-reply' });
    expect(readReply(encodeSuccessReply('r', 10n))).toMatchObject({ ok: false, reason: 'unencodable-reply' });
  });

  it('reads a failure with its reason and the handler error message', () => {
    expect(readReply(encodeFailureReply('r', 'non-retryable', 'no such "user"'))).toEqual({
      id: 'r', ok: false, reason: 'non-retryable', error: 'no such "user"',
    });
  });

  it('reads nothing that is not a reply', () => {
    for (const text of [
      'not json', '[]', 'null', '"text"', '{}', '{"id":"","ok":true,"v":1}', '{"id":5,"ok":true,"v":1}',
      '{"id":"r","ok":true}', '{"id":"r","ok":"yes","v":1}', '{"id":"r","ok":false,"reason":"x"}',
      '{"id":"r","ok":false,"reason":1,"error":"e"}',
    ]) {
      expect(readReply(text), text).toBeUndefined();
    }
  });

  it('puts each reply list in a slot of its own under the key prefix', () => {
    expect(replyListKey('app:', 'abc')).toBe('app:nrb:replies:{abc}');
    expect(replyListKey('app:', 'abc').startsWith(replyListKeyStart('app:'))).toBe(true);
  });
});
