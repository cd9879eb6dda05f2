import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ackArguments, QueueDelivery, toDeliveries } from '../../libs/redis-broker/src/queue/queue-delivery.js';

/** An `nrbFetch` reply as ioredis' Buffer variant returns it: marked, state, lengths, messages. */
function fetchReply(messages: (Buffer | string)[], { marked = messages.length, state = '' } = {}): (Buffer | number)[] {
  const bytes = messages.map((m) => (typeof m === 'string' ? Buffer.from(m, 'utf8') : m));
  return [marked, Buffer.from(state), Buffer.from(bytes.map((b) => b.length).join(',')), Buffer.concat(bytes)];
}

const sha1 = (bytes: Buffer | string) => createHash('sha1').update(bytes).digest('hex');

/** A delivery fetched as bytes and decoded, as a non-ASCII message is once it runs. */
function decoded(text: string): QueueDelivery {
  const delivery = new QueueDelivery(Buffer.from(text, 'utf8'), 0, 0, true, 0);
  delivery.decode();
  return delivery;
}

describe('toDeliveries', () => {
  it('makes no delivery of an empty fetch', () => {
    expect(toDeliveries([0, Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)])).toEqual([]);
  });

  it('cuts the concatenated messages by their lengths, ASCII ones as text', () => {
    const deliveries = toDeliveries(fetchReply(['{"id":1}', 'b', '{"id":333}']));
    expect(deliveries.map((d) => d.body)).toEqual(['{"id":1}', 'b', '{"id":333}']);
    expect(deliveries.map((d) => d.text)).toEqual(['{"id":1}', 'b', '{"id":333}']);
    expect(deliveries.map((d) => d.size)).toEqual([8, 1, 10]);
  });

  it('reads lengths given as a number, as Redis returns a single one', () => {
    const reply = fetchReply(['hello']);
    reply[2] = 5;
    expect(toDeliveries(reply).map((d) => d.body)).toEqual(['hello']);
  });

  it('keeps empty messages between others', () => {
    const deliveries = toDeliveries(fetchReply(['', 'ab', '']));
    expect(deliveries.map((d) => d.body)).toEqual(['', 'ab', '']);
    expect(deliveries.map((d) => d.size)).toEqual([0, 2, 0]);
  });

  it('counts the first `marked` deliveries as running and the rest as waiting', () => {
    const deliveries = toDeliveries(fetchReply(['a', 'b', 'c'], { marked: 2 }));
    expect(deliveries.map((d) => d.marked)).toEqual([true, true, false]);
    expect(toDeliveries(fetchReply(['a'], { marked: 0 }))[0].marked).toBe(false);
  });

  it('reads each message\'s failed attempts and deaths from the state, zero when the state is empty', () => {
    const deliveries = toDeliveries(fetchReply(['a', 'b'], { state: '2:0,0:3' }));
    expect(deliveries.map((d) => [d.attempts, d.deaths])).toEqual([[2, 0], [0, 3]]);
    expect(toDeliveries(fetchReply(['a', 'b'])).map((d) => [d.attempts, d.deaths])).toEqual([[0, 0], [0, 0]]);
  });

  it('stamps every delivery of a batch with one arrival time', () => {
    const before = Date.now();
    const deliveries = toDeliveries(fetchReply(['a', 'b', 'c']));
    const after = Date.now();
    expect(new Set(deliveries.map((d) => d.receivedAt)).size).toBe(1);
    expect(deliveries[0].receivedAt).toBeGreaterThanOrEqual(before);
    expect(deliveries[0].receivedAt).toBeLessThanOrEqual(after);
  });

  it('keeps non-ASCII messages as bytes, sized in bytes, until they are decoded', () => {
    const [plain, accented] = toDeliveries(fetchReply(['a', 'héllo ✓']));
    expect(plain.body).toEqual(Buffer.from('a'));
    expect(accented.size).toBe(Buffer.byteLength('héllo ✓'));
    expect(accented.text).toBeUndefined();
    expect(accented.decode()).toBe('héllo ✓');
    expect(accented.text).toBe('héllo ✓');
    expect(accented.body).toBe('héllo ✓');
  });

  it('keeps invalid UTF-8 as the exact bytes and decodes it to undefined', () => {
    const invalid = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const [delivery] = toDeliveries(fetchReply([invalid]));
    expect(delivery.decode()).toBeUndefined();
    expect(delivery.text).toBeUndefined();
    expect(delivery.body).toEqual(invalid);
  });

  it('decodes a real U+FFFD character, which is valid UTF-8', () => {
    const [delivery] = toDeliveries(fetchReply(['replacement \uFFFD char']));
    expect(delivery.decode()).toBe('replacement \uFFFD char');
  });

  it('shares a small batch\'s reply buffer but copies the pieces of a large one', () => {
    const small = fetchReply(['é1', 'é2']);
    const [piece] = toDeliveries(small);
    expect((piece.body as Buffer).buffer).toBe((small[3] as Buffer).buffer);
    const big = 'é'.repeat(200 * 1024);
    const large = fetchReply([big, 'é']);
    const pieces = toDeliveries(large);
    expect((pieces[0].body as Buffer).buffer).not.toBe((large[3] as Buffer).buffer);
    expect(pieces.map((d) => d.decode())).toEqual([big, 'é']);
  });

  it('cuts a large ASCII batch into the right texts', () => {
    const big = 'x'.repeat(300 * 1024);
    expect(toDeliveries(fetchReply(['a', big, 'z'])).map((d) => d.body)).toEqual(['a', big, 'z']);
  });
});

describe('QueueDelivery', () => {
  it('keys its retry state by the sha1 of its bytes, the same whether held as text or bytes', () => {
    const text = decoded('héllo');
    const bytes = new QueueDelivery(Buffer.from('héllo'), 0, 0, true, 0);
    expect(text.sha).toBe(sha1(Buffer.from('héllo')));
    expect(bytes.sha).toBe(text.sha);
    expect(new QueueDelivery('other', 0, 0, true, 0).sha).not.toBe(text.sha);
  });

  it('starts with no place in the held list or the processing-list model', () => {
    const delivery = new QueueDelivery('a', 1, 2, false, 5);
    expect([delivery.heldAt, delivery.slot, delivery.acking, delivery.leaving]).toEqual([-1, -1, false, false]);
    expect([delivery.attempts, delivery.deaths, delivery.marked, delivery.receivedAt]).toEqual([1, 2, false, 5]);
  });
});

describe('ackArguments', () => {
  it('sends flags, byte lengths and the messages as one text when all are decoded', () => {
    const deliveries = [new QueueDelivery('ab', 0, 0, true, 0), decoded('ü')];
    const [flags, lengths, body] = ackArguments(deliveries, (d) => d.text === 'ab');
    expect(flags).toBe('10');
    expect(lengths).toBe('2,2');
    expect(body).toBe('abü');
  });

  it('sends the messages as bytes when one of them is not decoded', () => {
    const invalid = Buffer.from([0xff]);
    const deliveries = [new QueueDelivery('ab', 0, 0, true, 0), new QueueDelivery(invalid, 0, 0, true, 0), decoded('é')];
    const [flags, lengths, body] = ackArguments(deliveries, () => false);
    expect(flags).toBe('000');
    expect(lengths).toBe('2,1,2');
    expect(body).toEqual(Buffer.concat([Buffer.from('ab'), invalid, Buffer.from('é')]));
  });

  it('sends nothing for an empty batch', () => {
    expect(ackArguments([], () => true)).toEqual(['', '', '']);
  });
});
