import { Injectable } from '@nestjs/common';
import { BrokerClient, InvalidBrokerOptionsError, StreamConsumer, type StreamMessageContext } from 'nest-redis-broker';
import { BrokerMetrics, RedisBrokerMetricsModule } from 'nest-redis-broker/observability';
import { waitFor } from 'nest-redis-broker/testing';
import { describe, expect, it } from 'vitest';
import { useBrokerApp } from '../support/file-redis.js';
import { metricSample } from '../support/timeline-apps.js';

const seen: { payload: Record<string, unknown>; ctx: StreamMessageContext }[] = [];

@Injectable()
class HeaderReader {
  @StreamConsumer({ stream: 'audited', group: 'readers', parse: 'json-fields', blockTimeoutMs: 100 })
  read(payload: Record<string, unknown>, ctx: StreamMessageContext): void {
    seen.push({ payload, ctx });
  }
}

describe('headers and enqueue time of stream entries', () => {
  const broker = useBrokerApp({}, [HeaderReader], { imports: [RedisBrokerMetricsModule.forRoot({ defaultMetrics: false })] });

  it('carries append headers to ctx.headers, out of the payload, and dates the entry from its id', async () => {
    const client = broker.app.get(BrokerClient);
    const id = await client.append('audited', { user: 'u1', detail: { a: 1 } }, { headers: { tenant: 'acme', traceparent: '00-t-01' } });
    const [plainId] = await client.appendMany('audited', [{ user: 'u2' }]);
    await waitFor(() => seen.length === 2, { description: 'both entries to run' });
    const [withHeaders, without] = seen;
    expect(withHeaders.ctx.id).toBe(id);
    expect(withHeaders.payload).toEqual({ user: 'u1', detail: { a: 1 } });
    expect(withHeaders.ctx.headers).toEqual({ tenant: 'acme', traceparent: '00-t-01' });
    expect(withHeaders.ctx.fields).toMatchObject({ '__nrb.h.tenant': 'acme' });
    expect(withHeaders.ctx.enqueuedAt).toBe(Number(id.split('-')[0]));
    expect(without.ctx.id).toBe(plainId);
    expect(without.ctx.headers).toEqual({});
    expect(without.payload).toEqual({ user: 'u2' });
    // Written as plain fields: any client reads and writes them.
    const [[, fields]] = await broker.plain.xrange('audited', id, id);
    expect(fields).toEqual(['user', 'u1', 'detail', '{"a":1}', '__nrb.h.tenant', 'acme', '__nrb.h.traceparent', '00-t-01']);
  });

  it('reads headers from fields another client wrote under the prefix', async () => {
    seen.length = 0;
    const id = (await broker.plain.xadd('audited', '*', 'user', 'u3', '__nrb.h.lang', 'python'))!;
    await waitFor(() => seen.length === 1, { description: 'the entry to run' });
    expect(seen[0].ctx.id).toBe(id);
    expect(seen[0].payload).toEqual({ user: 'u3' });
    expect(seen[0].ctx.headers).toEqual({ lang: 'python' });
  });

  it('refuses headers that are not strings, naming the option', async () => {
    const client = broker.app.get(BrokerClient);
    const headers = { n: 1 } as unknown as Record<string, string>;
    await expect(client.append('audited', { a: '1' }, { headers })).rejects.toThrow(InvalidBrokerOptionsError);
    await expect(client.append('audited', { a: '1' }, { headers })).rejects.toThrow(/append\.headers/);
  });

  it('observes the wait of each entry in the metrics', async () => {
    const text = await broker.app.get(BrokerMetrics).metricsText();
    expect(metricSample(text, 'nrb_queue_wait_seconds_count', { kind: 'stream', source: 'audited/readers' })).toBe(3);
  });
});
