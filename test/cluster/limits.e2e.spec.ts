import { Cluster } from 'ioredis';
import { QueueKeys, StreamKeys } from 'nest-redis-broker';
import { waitFor } from 'nest-redis-broker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStarts, startsPerSecond } from '../limits/run-records.js';
import { report } from '../support/ledger.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';
import { BOOT_BUDGET_MS, WorkerPool } from '../support/worker-pool.js';

const RATE = 100;
// Not measured: second 0 (the first window's burst) and second 1, whose count is skewed by how late
// the cold processes stamped the burst's first start (the origin of the seconds).
const WARM_UP_SECONDS = 2;
const MEASURED_SECONDS = 5;

describe('rateLimit and globalConcurrency on a real 3-master Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let plain: Cluster;
  const pool = new WorkerPool();

  beforeAll(async () => {
    cluster = await startRedisCluster();
    plain = new Cluster(cluster.nodes);
  });

  afterAll(async () => {
    plain?.disconnect();
    await cluster?.stop();
  });

  async function startWorkers(env: Record<string, string>): Promise<void> {
    const ports = cluster.nodes.map((n) => n.port).join(',');
    const workers = Array.from({ length: 3 }, (_, i) => pool.spawn('limits-worker', { CLUSTER_PORTS: ports, CONSUMER: `c${i}`, ...env }));
    await Promise.all(workers.map((w) => w.ready));
  }

  async function starts(name: string): Promise<ReturnType<typeof parseStarts>> {
    return parseStarts(await plain.lrange(`{${name}}:starts`, 0, -1));
  }

  it('keeps every limit key in its queue\'s or stream\'s slot', async () => {
    const queue = new QueueKeys('c-limited', '');
    const q = queue.limits();
    const s = new StreamKeys('c-limited-s', '').limits('g');
    const slot = (key: string): Promise<unknown> => plain.call('CLUSTER', 'KEYSLOT', key);
    expect(new Set(await Promise.all([queue.list, q.rate, q.leases, q.released, q.config, q.keyedRate('tenant{x}')].map(slot))).size).toBe(1);
    expect(new Set(await Promise.all(['c-limited-s', s.rate, s.leases, s.released, s.config].map(slot))).size).toBe(1);
  });

  it(`3 processes with rateLimit ${RATE}/1000 ms start ${RATE} ± 5 % handlers in every whole second once warm`, async () => {
    await startWorkers({ NAME: 'c-rate', RATE_MAX: String(RATE), RATE_PER_MS: '1000', CONCURRENCY: '10' });
    const sent = RATE * (MEASURED_SECONDS + WARM_UP_SECONDS + 3);
    await plain.lpush('c-rate', ...Array.from({ length: sent }, (_, id) => JSON.stringify({ id })));
    await waitFor(async () => {
      const all = await starts('c-rate');
      // Or the backlog ran out early (more than the limit ran): the counts below say by how much.
      if (all.length === sent) return true;
      // A start stamped a second past the measured ones: every process has pushed its starts of those seconds.
      return all.length > 0 && Math.max(...all.map((x) => x.at)) - Math.min(...all.map((x) => x.at)) >= (MEASURED_SECONDS + WARM_UP_SECONDS + 1) * 1000;
    }, { timeoutMs: (MEASURED_SECONDS + WARM_UP_SECONDS + 10) * 1000, intervalMs: 200, description: `${MEASURED_SECONDS + WARM_UP_SECONDS} s of starts` });
    const perSecond = startsPerSecond(await starts('c-rate')).slice(0, MEASURED_SECONDS + WARM_UP_SECONDS);
    report('Cluster: rateLimit 100/1000 ms, 3 processes', { perSecond: perSecond.join(' ') });
    expect(perSecond.length).toBe(MEASURED_SECONDS + WARM_UP_SECONDS);
    for (const count of perSecond.slice(WARM_UP_SECONDS)) {
      expect(count).toBeGreaterThanOrEqual(RATE * 0.95);
      expect(count).toBeLessThanOrEqual(RATE * 1.05);
    }
  }, 2 * BOOT_BUDGET_MS + 30_000);

  it('a stream group with globalConcurrency 2 over 3 processes × concurrency 10 never runs more than 2 at once, and does run 2', async () => {
    await startWorkers({ KIND: 'stream', NAME: 'c-sem', GLOBAL_CONCURRENCY: '2', CONCURRENCY: '10', WORK_MS: '30' });
    const sent = 60;
    for (let n = 0; n < sent; n += 1) await plain.xadd('c-sem', '*', 'n', String(n));
    await waitFor(async () => (await plain.llen('{c-sem}:starts')) === sent && (await plain.get('{c-sem}:running')) === '0', {
      timeoutMs: 40_000, intervalMs: 100, description: `${sent} entries run`,
    });
    const maxRunning = Number(await plain.get('{c-sem}:maxRunning'));
    report('Cluster: stream globalConcurrency 2, 3 processes x 10', { runs: sent, maxRunning });
    expect(maxRunning).toBe(2);
  }, 2 * BOOT_BUDGET_MS + 40_000);
});
