import { describe, expect, it } from 'vitest';
import { CHANNEL_PAYLOAD_PARSERS } from '../../libs/redis-broker/src/pubsub/channel-payload.parsers.js';

const { raw, json, auto } = CHANNEL_PAYLOAD_PARSERS;

describe('channel payload parsers', () => {
  it('raw hands over the text untouched, JSON or not', () => {
    for (const text of ['{"a":1}', 'hello world', '', '  42 ']) expect(raw(text)).toBe(text);
  });

  it('json parses JSON and throws on anything else', () => {
    expect(json('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(json('"text"')).toBe('text');
    expect(() => json('hello')).toThrow(SyntaxError);
    expect(() => json('')).toThrow(SyntaxError);
  });

  it('auto parses every kind of JSON value', () => {
    expect(auto('{"user":"u1"}')).toEqual({ user: 'u1' });
    expect(auto('[1,"two"]')).toEqual([1, 'two']);
    expect(auto('"quoted"')).toBe('quoted');
    expect(auto('42')).toBe(42);
    expect(auto('-1.5')).toBe(-1.5);
    expect(auto('true')).toBe(true);
    expect(auto('false')).toBe(false);
    expect(auto('null')).toBeNull();
    expect(auto(' \n {"padded":true} ')).toEqual({ padded: true });
  });

  it('auto hands over plain words and broken JSON as the text itself', () => {
    for (const text of ['world', 'hello world', '', '   ', '{not json', 'nope', 'tru', '12abc', '-', '[1,']) {
      expect(auto(text)).toBe(text);
    }
  });
});
