import { batchSettingText } from 'nest-redis-broker';
import { describe, expect, it } from 'vitest';

describe('batchSettingText', () => {
  it('prints size and maxWaitMs, and nothing for a handler of one message at a time', () => {
    expect(batchSettingText({ size: 100, maxWaitMs: 20 })).toBe('100 / 20 ms');
    expect(batchSettingText({ size: 1, maxWaitMs: 0 })).toBe('1 / 0 ms');
    expect(batchSettingText(undefined)).toBe('');
  });
});
