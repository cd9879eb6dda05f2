import { Command } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodeEnvelope, envelopeMiddle, newMessageId } from '../../libs/redis-broker/src/core/envelope.js';
import { PushEnvelopesCommand, type EnvelopeBatch } from '../../libs/redis-broker/src/core/redis/push-envelopes.command.js';

/** The bytes ioredis itself writes for `LPUSH key ...values`. */
function ioredisBytes(key: string, values: string[], keyPrefix?: string): Buffer {
  const written = new Command('lpush', [key, ...values], { keyPrefix }).toWritable({});
  return typeof written === 'string' ? Buffer.from(written) : written;
}

/** A batch of `payloads` enqueued at `at` with `headers`, and the envelopes `encodeEnvelope` makes of it. */
function batchOf(payloads: unknown[], at: number, headers?: Record<string, string>): { batch: EnvelopeBatch; envelopes: string[] } {
  const ids = payloads.map(() => newMessageId());
  const jsons = payloads.map((p) => JSON.stringify(p));
  return {
    batch: { ids, middle: envelopeMiddle(at, headers), payloads: jsons },
    envelopes: jsons.map((json, i) => encodeEnvelope(ids[i], at, headers, json)),
  };
}

describe('PushEnvelopesCommand', () => {
  const cases: Array<[string, string, unknown[], Record<string, string> | undefined]> = [
    ['one ASCII payload', 'q', [{ a: 1 }], undefined],
    ['short payloads (one-digit lengths are impossible: the frame alone is longer)', 'queue', ['', 0, null, 'yz'], {}],
    ['multi-byte payloads, key and headers (lengths in bytes, not characters)', 'é-queue', ['é', '漢字', '🙂🙂', { t: 'é漢🙂'.repeat(300) }], { tenant: 'ä漢', 'trace"id': 'a"b' }],
    ['a thousand payloads of growing length (2 to 4 digit lengths)', 'list', Array.from({ length: 1_000 }, (_, i) => 'v'.repeat(i * 7)), { traceparent: '00-abc-def-01' }],
  ];

  it.each(cases)('writes the bytes ioredis writes for LPUSH of encodeEnvelope\'s texts: %s', (_, key, payloads, headers) => {
    const { batch, envelopes } = batchOf(payloads, 1_764_000_000_000, headers);
    expect(new PushEnvelopesCommand(key, batch, undefined).toWritable().equals(ioredisBytes(key, envelopes))).toBe(true);
  });

  it("applies the client's own keyPrefix to the key, as ioredis does", () => {
    const { batch, envelopes } = batchOf(['a', 'bc'], 5);
    const command = new PushEnvelopesCommand('jobs', batch, 'app:');
    expect(command.toWritable().toString()).toContain('$8\r\napp:jobs\r\n');
    expect(command.toWritable().equals(ioredisBytes('jobs', envelopes, 'app:'))).toBe(true);
  });

  it('writes the same bytes again when resent (a reconnect)', () => {
    const command = new PushEnvelopesCommand('q', batchOf(['a', 'b'], 5).batch, undefined);
    expect(command.toWritable()).toBe(command.toWritable());
  });
});
