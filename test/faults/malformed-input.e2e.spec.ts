import { Injectable, ValidationPipe } from '@nestjs/common';
import { IsInt, Min } from 'class-validator';
import { Payload, QueueDeadLetterService, QueueHandler, StreamConsumer, StreamDeadLetterService } from 'nest-redis-broker';
import { ConsumerRunner } from 'nest-redis-broker/internal';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { ledger, report } from '../support/ledger.js';

const MAX_BYTES = 4_096;
const DEAD_CAP = 150;

class Numbered {
  @IsInt() @Min(0) id!: number;
}

class StreamNumbered {
  @IsInt() @Min(0) n!: number;
}

const handled: string[] = [];
const streamHandled: string[] = [];

@Injectable()
class FuzzHandlers {
  @QueueHandler('fuzz', { concurrency: 4, maxMessageBytes: MAX_BYTES })
  queue(@Payload(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true })) message: Numbered): void {
    handled.push(String(message.id));
  }

  @StreamConsumer({ stream: 'fuzz-s', group: 'g', concurrency: 4, parse: 'json-fields' })
  stream(@Payload(new ValidationPipe({ transform: true, transformOptions: { enableImplicitConversion: true } })) fields: StreamNumbered): void {
    streamHandled.push(String(fields.n));
  }
}

/** Deterministic bytes (a linear congruential generator), so a failure can be replayed. */
function randomBytesFrom(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i += 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    out[i] = state >> 16;
  }
  return out;
}

/** Every kind of malformed list message a plain client can push, with the dead-letter reasons it may get. */
function malformedMessages(): { body: Buffer | string; reasons: string[] }[] {
  const out: { body: Buffer | string; reasons: string[] }[] = [];
  for (let seed = 1; seed <= 40; seed += 1) out.push({ body: randomBytesFrom(seed, 1 + (seed * 37) % 600), reasons: ['invalid-utf8', 'unparsable', 'validation'] });
  out.push({ body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), reasons: ['invalid-utf8'] });
  out.push({ body: Buffer.from([0xc3, 0x28]), reasons: ['invalid-utf8'] });
  out.push({ body: `{"id":1,"pad":"${'x'.repeat(MAX_BYTES)}"}`, reasons: ['too-large'] });
  out.push({ body: Buffer.alloc(2 * 1024 * 1024, 0x41), reasons: ['too-large'] });
  for (const json of ['42', '"text"', 'null', 'true', '[1,2,3]', '{}', '{"id":"7"}', '{"id":-1}', '{"id":1.5}', '{"id":1,"extra":"x"}',
    '{"constructor":{"prototype":{"polluted":true}}}', `${'['.repeat(1000)}${']'.repeat(1000)}`]) {
    out.push({ body: json, reasons: ['validation'] });
  }
  for (const text of ['', ' ', '{', '{"id":', 'undefined', 'NaN', "]] redis.call('FLUSHALL') --", '{"id":1}{"id":2}']) {
    out.push({ body: text, reasons: ['unparsable'] });
  }
  return out;
}

describe('malformed input pushed by a plain client', () => {
  const broker = useBrokerApp({ deadLetterMaxEntries: DEAD_CAP }, [FuzzHandlers]);

  it('dead-letters every malformed list message with a reason while the valid ones interleaved with them are all handled', async () => {
    const bad = malformedMessages();
    const valid = 100;
    // Valid and malformed messages alternate on the list.
    for (let i = 0; i < Math.max(valid, bad.length); i += 1) {
      if (i < valid) await broker.plain.lpush('fuzz', JSON.stringify({ id: i }));
      if (i < bad.length) await broker.plain.lpush('fuzz', bad[i].body);
    }
    // Valid, with a "__proto__" key: JSON.parse makes it a plain own property, it reaches no prototype.
    await broker.plain.lpush('fuzz', '{"__proto__":{"polluted":true},"id":500}');
    const dead = broker.app.get(QueueDeadLetterService);
    await waitFor(async () => (await dead.count('fuzz')) === bad.length, { timeoutMs: 20_000, description: `${bad.length} dead letters` });
    await waitForQueuesIdle(broker.redis.url, ['fuzz']);
    await waitFor(() => handled.includes('500'), { description: 'the message with a __proto__ key' });
    const result = ledger(valid, handled.filter((n) => n !== '500'));
    const letters = await dead.list('fuzz', { limit: bad.length });
    const reasons = new Map<string, number>();
    for (const letter of letters) reasons.set(letter.reason, (reasons.get(letter.reason) ?? 0) + 1);
    report('queue malformed input', { valid, malformed: bad.length, handled: result.handled, dead: letters.length, ...Object.fromEntries(reasons) });
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(letters).toHaveLength(bad.length);
    // Each malformed message got one of the reasons its kind allows (matched by content; oversized ones by reason).
    for (const { body, reasons: allowed } of bad) {
      const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
      const letter = letters.find((l) => l.message === text) ?? letters.find((l) => l.reason === 'too-large' && allowed.includes('too-large'));
      expect(letter && allowed.includes(letter.reason), `${text.slice(0, 40)} → ${letter?.reason}`).toBe(true);
      expect(letter?.error).not.toBe('');
    }
    // Nothing from a payload became a key or reached the prototype chain.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const keys = await broker.plain.keys('*');
    // (The registry of queue names, {}:registry:queues, holds only names the code used.)
    expect(keys.filter((k) => !k.startsWith('fuzz') && !k.startsWith('{fuzz') && !k.startsWith('{}:registry:'))).toEqual([]);
    expect(broker.app.get(ConsumerRunner).health().every((h) => h.state === 'running' && !h.failing)).toBe(true);
  });

  it('keeps the dead-letter list at deadLetterMaxEntries under a flood of oversized messages', async () => {
    const flood = 300;
    const body = 'y'.repeat(MAX_BYTES + 1);
    await broker.plain.lpush('fuzz', ...Array.from({ length: flood }, () => body));
    await broker.plain.lpush('fuzz', JSON.stringify({ id: 1_000 }));
    await waitFor(() => handled.includes('1000'), { timeoutMs: 20_000, description: 'the valid message behind the flood' });
    await waitForQueuesIdle(broker.redis.url, ['fuzz']);
    const dead = broker.app.get(QueueDeadLetterService);
    report('queue oversized flood', { flood, cap: DEAD_CAP, dead: await dead.count('fuzz') });
    expect(await dead.count('fuzz')).toBe(DEAD_CAP);
    expect(await broker.plain.hlen('{fuzz}:dead:messages')).toBe(DEAD_CAP);
  });

  it('dead-letters malformed stream entries (broken JSON fields, wrong types, stray bytes) while valid ones flow', async () => {
    const valid = 50;
    // Each malformed entry with the reason it must get: a value starting with { or [ that is not JSON is
    // unparsable, anything else decodes and fails the DTO's checks.
    const bad: { fields: (string | Buffer)[]; reason: 'unparsable' | 'validation' }[] = [
      { fields: ['n', '{broken'], reason: 'unparsable' },
      { fields: ['n', '[1,'], reason: 'unparsable' },
      { fields: ['n', 'seven'], reason: 'validation' },
      { fields: ['n', '-3'], reason: 'validation' },
      { fields: ['other', '1'], reason: 'validation' },
      { fields: ['n', '{"a":1}'], reason: 'validation' },
      { fields: ['n', randomBytesFrom(7, 64)], reason: 'validation' },
      { fields: ['n', Buffer.from([0xff, 0xfe])], reason: 'validation' },
      { fields: ['n', '1', 'n2', '{"x":'], reason: 'unparsable' },
    ];
    const ids: string[] = [];
    for (let i = 0; i < valid; i += 1) {
      await broker.plain.xadd('fuzz-s', '*', 'n', String(i));
      if (i < bad.length) ids.push((await broker.plain.xadd('fuzz-s', '*', ...bad[i].fields))!);
    }
    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => (await dead.count('fuzz-s', 'g')) === bad.length, { timeoutMs: 20_000, description: `${bad.length} dead entries` });
    await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'fuzz-s', group: 'g' }]);
    const result = ledger(valid, streamHandled);
    const letters = await dead.list('fuzz-s', 'g', { limit: 50 });
    report('stream malformed input', { valid, malformed: bad.length, handled: result.handled, dead: letters.length });
    expect(result.missing).toEqual([]);
    expect(letters).toHaveLength(bad.length);
    // Each entry is dead once, with its reason and its fields as written (invalid UTF-8 shows replacement characters).
    bad.forEach(({ fields, reason }, i) => {
      const expected: Record<string, string> = {};
      for (let f = 0; f < fields.length; f += 2) expected[String(fields[f])] = fields[f + 1].toString();
      const mine = letters.filter((l) => l.originalId === ids[i]).map((l) => ({ stream: l.stream, group: l.group, reason: l.reason, fields: l.fields, explained: l.error !== '' }));
      expect(mine, `entry ${i}`).toEqual([{ stream: 'fuzz-s', group: 'g', reason, fields: expected, explained: true }]);
    });
  });
});
