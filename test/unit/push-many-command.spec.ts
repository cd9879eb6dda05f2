import { Command } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { PushManyCommand } from '../../libs/redis-broker/src/core/redis/push-many.command.js';

/** The bytes ioredis itself writes for `LPUSH key ...values`. */
function ioredisBytes(key: string, values: string[], keyPrefix?: string): Buffer {
  const written = new Command('lpush', [key, ...values], { keyPrefix }).toWritable({});
  return typeof written === 'string' ? Buffer.from(written) : written;
}

describe('PushManyCommand', () => {
  const cases: Array<[string, string, string[]]> = [
    ['one ASCII value', 'q', ['{"a":1}']],
    ['empty values and one-byte lengths', 'queue', ['', 'x', '', 'yz']],
    ['multi-byte text (lengths in bytes, not characters)', 'é-queue', ['é', '漢字', '🙂🙂', `{"t":"${'é漢🙂'.repeat(300)}"}`]],
    ['a thousand values of growing length (1 to 4 digit lengths)', 'list', Array.from({ length: 1_000 }, (_, i) => 'v'.repeat(i * 7))],
  ];

  it.each(cases)('writes the same bytes as ioredis: %s', (_, key, values) => {
    expect(new PushManyCommand(key, values, undefined).toWritable().equals(ioredisBytes(key, values))).toBe(true);
  });

  it("applies the client's own keyPrefix to the key, as ioredis does", () => {
    const values = ['a', 'bc'];
    const command = new PushManyCommand('jobs', values, 'app:');
    expect(command.toWritable().toString()).toContain('$8\r\napp:jobs\r\n');
    expect(command.toWritable().equals(ioredisBytes('jobs', values, 'app:'))).toBe(true);
  });

  it('writes the same bytes again when resent (a reconnect)', () => {
    const command = new PushManyCommand('q', ['a', 'b'], undefined);
    expect(command.toWritable()).toBe(command.toWritable());
  });
});
