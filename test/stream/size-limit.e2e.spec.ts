import { Injectable } from '@nestjs/common';
import { StreamConsumer, StreamDeadLetterService } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const LIMIT = 1_024;
const handled: string[] = [];

@Injectable()
class UploadConsumer {
  @StreamConsumer({ stream: 'uploads', group: 'scanner', maxMessageBytes: LIMIT })
  scan(fields: Record<string, string>): void {
    handled.push(fields.name);
  }
}

describe('stream entry size limit', () => {
  const broker = useBrokerApp({}, [UploadConsumer]);

  it('dead-letters an entry over maxMessageBytes unrun, with its reason and fields, and goes on with the next', async () => {
    await broker.plain.xadd('uploads', '*', 'name', 'small-1');
    const bigId = await broker.plain.xadd('uploads', '*', 'name', 'big', 'body', 'x'.repeat(2 * LIMIT));
    // 400 characters but 1,200 bytes of UTF-8: the limit is in bytes.
    const wideId = await broker.plain.xadd('uploads', '*', 'name', 'wide', 'body', '€'.repeat(400));
    // Exactly at the limit: runs.
    await broker.plain.xadd('uploads', '*', 'name', 'edge', 'body', 'y'.repeat(LIMIT - 'name'.length - 'edge'.length - 'body'.length));
    await broker.plain.xadd('uploads', '*', 'name', 'small-2');

    const dead = broker.app.get(StreamDeadLetterService);
    await waitFor(async () => handled.length === 3 && (await dead.count('uploads', 'scanner')) === 2, {
      description: 'the small entries to run and the large ones to be dead-lettered',
    });
    expect(handled).toEqual(['small-1', 'edge', 'small-2']);
    const records = await dead.list('uploads', 'scanner');
    expect(records.map((r) => [r.originalId, r.reason, r.error, r.fields.name])).toEqual([
      [wideId, 'too-large', `entry is 1212 bytes; maxMessageBytes is ${LIMIT}`, 'wide'],
      [bigId, 'too-large', `entry is ${2 * LIMIT + 11} bytes; maxMessageBytes is ${LIMIT}`, 'big'],
    ]);
    expect(records[1].fields.body).toHaveLength(2 * LIMIT);
    const [stats] = await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'uploads', group: 'scanner' }]);
    expect(stats).toMatchObject({ pending: 0, dead: 2 });
  });
});
