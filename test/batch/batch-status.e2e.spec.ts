import { Injectable } from '@nestjs/common';
import { BrokerCatalog, QueueHandler, QueueKeys, StreamConsumer, type BrokerOverview } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootBroker } from '../support/broker-app.js';
import { buildCli, runCli } from '../support/cli.js';
import { useRedis } from '../support/file-redis.js';

@Injectable()
class BatchHandlers {
  @QueueHandler('invoices', { batch: { size: 100, maxWaitMs: 50 } })
  bill(): void {}

  @StreamConsumer({ stream: 'clicks', group: 'counter', batch: { size: 500 } })
  count(): void {}

  @QueueHandler('emails')
  send(): void {}
}

/** The same queue, handled one message at a time after a redeploy. */
@Injectable()
class SingleInvoices {
  @QueueHandler('invoices')
  bill(): void {}
}

describe('batch handlers in the status tools', () => {
  const ctx = useRedis();
  beforeAll(() => buildCli(), 120_000);

  it('shows the batch option of queues and stream groups in the catalog and `status`, and clears it when the handler no longer batches', async () => {
    const first = await bootBroker({ connection: { url: ctx.redis.url }, keyPrefix: 'app:' }, [BatchHandlers]);
    const catalog = new BrokerCatalog(ctx.plain, 'app:');
    await waitFor(async () => (await ctx.plain.exists(new QueueKeys('invoices', 'app:').batch)) === 1, { description: 'the setting recorded' });
    const overview = await catalog.overview();
    const queues = Object.fromEntries(overview.queues.map((q) => [q.queue, q.batch]));
    expect(queues).toEqual({ emails: undefined, invoices: { size: 100, maxWaitMs: 50 } });
    // The default maxWaitMs (20) is what the consumer recorded.
    expect(overview.streams[0].groups[0]).toMatchObject({ group: 'counter', batch: { size: 500, maxWaitMs: 20 } });

    const env = { REDIS_URL: ctx.redis.url, BROKER_KEY_PREFIX: 'app:' };
    const json = await runCli(['status', '--json'], env);
    expect(json.code).toBe(0);
    const printed = JSON.parse(json.stdout) as BrokerOverview;
    expect(printed.queues.find((q) => q.queue === 'invoices')?.batch).toEqual({ size: 100, maxWaitMs: 50 });
    const text = await runCli(['status'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/QUEUE\s+WAITING\s+IN FLIGHT\s+DELAYED\s+DEAD\s+CONSUMERS\s+LIMITS\s+BATCH/);
    expect(text.stdout).toMatch(/invoices\s+0\s+0\s+0\s+0\s+1\s+100 \/ 50 ms/);
    expect(text.stdout).toMatch(/emails\s+0\s+0\s+0\s+0\s+1\s*\n/);
    expect(text.stdout).toMatch(/clicks\s+0\s+counter\s.*\s500 \/ 20 ms\n/);
    await first.app.close();

    // A redeploy whose handler takes one message at a time: status must not keep showing the old batch.
    const second = await bootBroker({ connection: { url: ctx.redis.url }, keyPrefix: 'app:' }, [SingleInvoices]);
    await waitFor(async () => (await ctx.plain.exists(new QueueKeys('invoices', 'app:').batch)) === 0, { description: 'the setting cleared' });
    expect((await catalog.overview()).queues.find((q) => q.queue === 'invoices')?.batch).toBeUndefined();
    await second.app.close();
  });
});
