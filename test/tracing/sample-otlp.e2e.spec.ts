import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../support/file-redis.js';
import { spawnFixture, type FixtureProcess } from '../support/processes.js';

/** What an OTLP/HTTP JSON export carries that the test reads. */
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[];
  }[];
}

interface ExportedSpan { service: string; name: string; traceId: string; spanId: string; parentSpanId?: string }

describe('the timeline sample with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  const file = useRedis();
  const exported: ExportedSpan[] = [];
  let collector: Server;
  let api: FixtureProcess;
  let worker: FixtureProcess;
  const dir = mkdtempSync(join(tmpdir(), 'timeline-otel-'));

  beforeAll(async () => {
    // A small OTLP/HTTP receiver: each POST /v1/traces is one JSON export.
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          for (const resource of (JSON.parse(body) as OtlpExport).resourceSpans) {
            const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
            for (const scope of resource.scopeSpans) for (const span of scope.spans) exported.push({ service, ...span });
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const env = { REDIS_URL: file.redis.url, PORT: '0', TIMELINE_DB: join(dir, 'timeline.sqlite'), OTEL_EXPORTER_OTLP_ENDPOINT: endpoint };
    // The apps' own entry points, as `npm run start:api` / `start:worker` run them.
    api = spawnFixture('../../apps/timeline-api/src/main', env, 'listening on');
    worker = spawnFixture('../../apps/timeline-worker/src/main', env, 'ready; operations');
    await Promise.all([api.ready, worker.ready]);
  });

  afterAll(async () => {
    for (const app of [api, worker]) app?.child.kill('SIGTERM');
    await Promise.all([api?.exited, worker?.exited]);
    await new Promise((resolve) => collector?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots both apps with tracing on and exports the API\'s send spans and the worker\'s runs of the same trace', async () => {
    expect(api.output()).toContain('(tracing on)');
    expect(worker.output()).toContain('(tracing on)');
    const base = /listening on (\S+)/.exec(api.output())![1];
    const post = async (path: string, body: unknown): Promise<{ id: number }> => {
      const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBeLessThan(300);
      return (await response.json()) as { id: number };
    };
    const alice = await post('/users', { name: 'alice' });
    await post(`/users/${alice.id}/posts`, { body: 'hello, traced world' });

    const runOfSend = (): ExportedSpan | undefined => {
      const sends = exported.filter((span) => span.service === 'timeline-api' && span.name.startsWith('send '));
      return exported.find((span) => span.service === 'timeline-worker' && span.name.startsWith('process ')
        && sends.some((send) => send.spanId === span.parentSpanId && send.traceId === span.traceId));
    };
    await waitFor(() => runOfSend() !== undefined, { timeoutMs: 30_000, description: 'a worker run exported as the child of an API send' });
  });
});
