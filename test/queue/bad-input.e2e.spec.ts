import { Injectable, ValidationPipe } from '@nestjs/common';
import { IsInt, IsString, Min } from 'class-validator';
import { Payload, QueueDeadLetterService, QueueHandler } from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { useRedis } from '../support/file-redis.js';

class OrderDto {
  @IsString() orderId!: string;
  @IsInt() @Min(1) quantity!: number;
}

const handled: unknown[] = [];

@Injectable()
class OrderHandler {
  @QueueHandler('orders', { maxMessageBytes: 200 })
  handle(@Payload(new ValidationPipe({ whitelist: true })) order: OrderDto): void {
    handled.push(order);
  }
}

describe('bad input', () => {
  const ctx = useRedis({}, { flushBeforeEach: false });

  it('dead-letters malformed, invalid and oversized messages at once while the next message is still handled', async () => {
    const { app } = await bootBroker({ connection: { url: ctx.redis.url } }, [OrderHandler]);
    try {
      await ctx.plain.lpush('orders', '{not json');
      await ctx.plain.lpush('orders', JSON.stringify({ orderId: 'o-1', quantity: 0 }));
      await ctx.plain.lpush('orders', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
      await ctx.plain.lpush('orders', JSON.stringify({ orderId: 'x'.repeat(300), quantity: 1 }));
      await ctx.plain.lpush('orders', JSON.stringify({ orderId: 'o-2', quantity: 2 }));
      await waitForQueuesIdle(ctx.redis.url, ['orders']);
      expect(handled).toEqual([{ orderId: 'o-2', quantity: 2 }]);
      const dead = await app.get(QueueDeadLetterService).list('orders');
      const byReason = Object.fromEntries(dead.map((d) => [d.reason, d]));
      expect(Object.keys(byReason).sort()).toEqual(['invalid-utf8', 'too-large', 'unparsable', 'validation']);
      expect(byReason.unparsable.message).toBe('{not json');
      expect(byReason.unparsable.attempts).toBe(1);
      expect(byReason.validation.error).toContain('quantity must not be less than 1');
      expect(byReason['too-large'].error).toContain('maxMessageBytes is 200');
      // The original bytes are kept exactly and go back to the queue on requeue: the consumer gets the
      // same bytes (invalid UTF-8 again, not replacement characters) and stores them as they were.
      const original = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const id = byReason['invalid-utf8'].id;
      expect(await ctx.plain.hgetBuffer('{orders}:dead:messages', id)).toEqual(original);
      expect(await app.get(QueueDeadLetterService).requeue('orders', id)).toBe(true);
      await waitFor(async () => (await app.get(QueueDeadLetterService).count('orders')) === 4, { description: 'it to die again' });
      const again = (await app.get(QueueDeadLetterService).list('orders')).filter((d) => d.reason === 'invalid-utf8');
      expect(again).toHaveLength(1);
      expect(again[0].id).not.toBe(id);
      expect(await ctx.plain.hgetBuffer('{orders}:dead:messages', again[0].id)).toEqual(original);
    } finally {
      await app.close();
    }
  });
});
