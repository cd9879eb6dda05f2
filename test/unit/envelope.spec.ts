import { describe, expect, it } from 'vitest';
import { assertHeaders, encodeEnvelope, entryIdTime, newMessageId, readEnvelope, waitMs } from '../../libs/redis-broker/src/core/envelope.js';
import { readQueueMessage } from '../../libs/redis-broker/src/queue/queue-message.reader.js';
import { splitHeaderFields } from '../../libs/redis-broker/src/stream/stream-headers.js';

const read = (text: string) => readEnvelope(JSON.parse(text));

describe('the queue envelope', () => {
  it('writes the payload JSON as it is, after the id and time, with no h when there are no headers', () => {
    expect(encodeEnvelope('abc1', 1700000000000, undefined, '{"a":1}')).toBe('{"__nrb":1,"id":"abc1","t":1700000000000,"p":{"a":1}}');
    expect(encodeEnvelope('abc1', 5, {}, '"x"')).toBe('{"__nrb":1,"id":"abc1","t":5,"p":"x"}');
    expect(encodeEnvelope('abc1', 5, { tenant: 'acme', 'trace"id': 'a"b' }, 'null')).toBe(
      '{"__nrb":1,"id":"abc1","t":5,"h":{"tenant":"acme","trace\\"id":"a\\"b"},"p":null}',
    );
  });

  it('reads back what it writes, whatever the key order', () => {
    const text = encodeEnvelope('abc1', 42, { tenant: 'acme' }, '[1,{"b":2}]');
    expect(read(text)).toEqual({ id: 'abc1', enqueuedAt: 42, headers: { tenant: 'acme' }, payload: [1, { b: 2 }] });
    expect(read('{"p":7,"t":1,"id":"z","__nrb":1}')).toEqual({ id: 'z', enqueuedAt: 1, headers: {}, payload: 7 });
    expect(read('{"__nrb":1,"id":"z","t":1,"p":null}')).toMatchObject({ payload: null });
  });

  it('takes data that merely contains the marker key for a plain payload', () => {
    for (const text of [
      '{"__nrb":"x","a":1}',
      '{"__nrb":1,"note":"hi"}',
      '{"__nrb":1,"id":"a","t":1}',
      '{"__nrb":1,"id":"a","t":1,"p":2,"extra":true}',
      '{"__nrb":1,"id":"","t":1,"p":2}',
      '{"__nrb":1,"id":7,"t":1,"p":2}',
      '{"__nrb":1,"id":"a","t":"1","p":2}',
      '{"__nrb":1,"id":"a","t":1,"h":{"k":1},"p":2}',
      '{"__nrb":1,"id":"a","t":1,"h":["k"],"p":2}',
      '{"__nrb":1,"id":"a","t":1,"h":null,"p":2}',
      '{"__nrb":true,"id":"a","t":1,"p":2}',
      '{"__nrb":2.5,"id":"a","t":1,"p":2}',
      '{"__nrb":0,"id":"a","t":1,"p":2}',
      '{"__nrb":2,"note":"a newer version needs an id and a p"}',
      '[{"__nrb":1,"id":"a","t":1,"p":2}]',
      '"__nrb"',
      '{"a":1}',
      '12',
      'null',
    ]) {
      expect(read(text), text).toBeUndefined();
    }
  });

  it('recognises an envelope of a newer version as one it cannot read', () => {
    expect(read('{"__nrb":2,"id":"a","p":1,"x":{}}')).toEqual({ unsupportedVersion: 2 });
  });

  it('makes unique ids that need no JSON escaping', () => {
    const ids = Array.from({ length: 10_000 }, newMessageId);
    expect(new Set(ids).size).toBe(10_000);
    for (const id of ids.slice(0, 100)) expect(JSON.stringify(id)).toBe(`"${id}"`);
  });

  it('refuses headers that are not an object of strings, naming the option', () => {
    expect(() => assertHeaders('enqueue.headers', { a: 'b' })).not.toThrow();
    expect(() => assertHeaders('enqueue.headers', undefined)).not.toThrow();
    expect(() => assertHeaders('enqueue.headers', { a: 1 })).toThrow(/"enqueue\.headers": got \{"a":1\}/);
    expect(() => assertHeaders('append.headers', 'a=b')).toThrow(/"append\.headers"/);
    expect(() => assertHeaders('enqueue.headers', ['a'])).toThrow(/"enqueue\.headers"/);
    expect(() => assertHeaders('enqueue.headers', new Map())).toThrow(/"enqueue\.headers"/);
    expect(() => assertHeaders('enqueue.headers', { '': 'x' })).toThrow(/non-empty/);
  });

  it('measures a wait from the enqueue time, never below zero, and none when unknown', () => {
    expect(waitMs(undefined, 5)).toBeUndefined();
    expect(waitMs(Date.now() + 60_000, 0)).toBe(0);
    const wait = waitMs(Date.now() - 10_000, 1_000)!;
    expect(wait).toBeGreaterThanOrEqual(9_000);
    expect(wait).toBeLessThan(10_000);
    expect(entryIdTime('1700000000123-7')).toBe(1700000000123);
  });
});

describe('readQueueMessage', () => {
  it('gives a json handler the envelope payload and a plain message as before', () => {
    expect(readQueueMessage('{"__nrb":1,"id":"a","t":1,"p":{"x":1}}', 'json')).toMatchObject({ payload: { x: 1 }, envelope: { id: 'a' } });
    expect(readQueueMessage('{"__nrb":1,"note":"hi"}', 'json')).toEqual({ payload: { __nrb: 1, note: 'hi' }, envelope: undefined });
    expect(readQueueMessage('not json', 'json')).toMatchObject({ reason: 'unparsable' });
  });

  it('gives a raw handler the payload JSON text of an envelope and any other text unchanged', () => {
    expect(readQueueMessage('{"__nrb":1,"id":"a","t":1,"p":"hello"}', 'raw')).toMatchObject({ payload: '"hello"', envelope: { id: 'a' } });
    expect(readQueueMessage('{"__nrb": oops', 'raw')).toEqual({ payload: '{"__nrb": oops', envelope: undefined });
    expect(readQueueMessage('{"__nrb":"x"}', 'raw')).toEqual({ payload: '{"__nrb":"x"}', envelope: undefined });
    expect(readQueueMessage('plain text', 'raw')).toEqual({ payload: 'plain text', envelope: undefined });
  });

  it('refuses an envelope of a newer version with a reason', () => {
    const refused = readQueueMessage('{"__nrb":9,"id":"a","p":1}', 'json');
    expect(refused).toMatchObject({ reason: 'unsupported-envelope' });
    expect((refused as { error: string }).error).toContain('version 9');
  });
});

describe('splitHeaderFields', () => {
  it('costs nothing for an entry without headers', () => {
    expect(splitHeaderFields({ a: '1' })).toBeUndefined();
  });

  it('moves the __nrb.h. fields to headers, leaving the stored fields untouched', () => {
    const fields = { a: '1', '__nrb.h.tenant': 'acme', '__nrb.h.': 'empty-name' };
    expect(splitHeaderFields(fields)).toEqual({ payload: { a: '1' }, headers: { tenant: 'acme', '': 'empty-name' } });
    expect(fields).toEqual({ a: '1', '__nrb.h.tenant': 'acme', '__nrb.h.': 'empty-name' });
  });
});
