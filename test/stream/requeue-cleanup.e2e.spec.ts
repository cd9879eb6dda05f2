import { Injectable } from '@nestjs/common';
import { NonRetryableError, StreamConsumer, StreamDeadLetterService } from 'nest-redis-broker';
import { waitFor, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';

const REQUEUE = '{mail}:requeue:sender';
const sent: string[] = [];
let refuse = new Set<string>();

@Injectable()
class MailConsumer {
  @StreamConsumer({ stream: 'mail', group: 'sender' })
  send(fields: Record<string, string>): void {
    if (refuse.has(fields.to)) throw new NonRetryableError(`mailbox ${fields.to} refused`);
    sent.push(fields.to);
  }
}

describe("a group's requeue stream", () => {
  const broker = useBrokerApp({}, [MailConsumer]);
  let dead: StreamDeadLetterService;

  beforeAll(() => {
    dead = broker.app.get(StreamDeadLetterService);
  });

  it('keeps a requeued entry only until it is settled, handled or dead again', async () => {
    refuse = new Set(['a@x', 'b@x', 'c@x']);
    for (const to of ['a@x', 'b@x', 'c@x']) await broker.plain.xadd('mail', '*', 'to', to);
    await waitFor(async () => (await dead.count('mail', 'sender')) === 3, { description: 'three dead mails' });

    // Two of them now go through, one dies again.
    refuse = new Set(['c@x']);
    expect(await dead.requeueAll('mail', 'sender')).toBe(3);
    await waitFor(() => sent.length === 2, { description: 'the requeued mails to be sent' });
    await waitFor(async () => (await dead.count('mail', 'sender')) === 1, { description: 'the refused mail to die again' });
    await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'mail', group: 'sender' }]);
    expect(sent.sort()).toEqual(['a@x', 'b@x']);
    expect(await broker.plain.xlen(REQUEUE)).toBe(0);
    expect((await dead.list('mail', 'sender'))[0].fields).toEqual({ to: 'c@x' });
  });
});
