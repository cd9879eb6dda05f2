import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { waitFor } from 'nest-redis-broker/testing';

const run = promisify(execFile);

/** One `redis-server --cluster-enabled yes` process of a test cluster. */
export interface ClusterNodeProcess {
  port: number;
  child: ChildProcess | undefined;
}

/** A real Redis Cluster on loopback, made of throwaway processes. */
export interface RedisClusterHandle {
  /** Startup nodes for `connection: { cluster: { nodes } }`. */
  nodes: { host: string; port: number }[];
  processes: ClusterNodeProcess[];
  /** SIGKILLs one node (for failover tests). */
  kill(port: number): Promise<void>;
  /** Kills every node and removes their directories. */
  stop(): Promise<void>;
}

/**
 * Starts `masters` (default 3) cluster-enabled redis-servers, plus `replicas`
 * per master, on free loopback ports (with more server `args`, e.g. an ACL
 * user), joins them with
 * `redis-cli --cluster create ... --cluster-yes` and waits until every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: { masters?: number; replicas?: number; args?: string[] } = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const count = masters * (1 + replicas);
  const dir = mkdtempSync(join(tmpdir(), 'nrb-cluster-'));
  const processes: ClusterNodeProcess[] = [];
  const exits = new Map<number, Promise<void>>();
  const stop = async (): Promise<void> => {
    for (const p of processes) p.child?.kill('SIGKILL');
    await Promise.all(exits.values());
    rmSync(dir, { recursive: true, force: true });
  };
  /**
   * Starts one node and waits until it answers. Its port was free when
   * chosen, but another process (an ephemeral client port) may take it, or
   * its bus port, before redis-server binds: then the node exits at once and
   * is started again on other ports, as `startRedisServer` does.
   */
  const startNode = async (): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      const port = await clusterPort(processes.map((p) => p.port));
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000',
        '--daemonize', 'no', '--loglevel', 'warning', ...(options.args ?? []),
      ], { stdio: 'ignore' });
      const node: ClusterNodeProcess = { port, child };
      const exited = new Promise<void>((resolve) => child.once('exit', () => {
        node.child = undefined;
        resolve();
      }));
      exits.set(port, exited);
      processes.push(node);
      await waitFor(async () => node.child === undefined || (await ping(port)), {
        timeoutMs: 10_000, description: `cluster node ${port} to listen`,
      });
      if (node.child !== undefined) return;
      processes.splice(processes.indexOf(node), 1);
      exits.delete(port);
      if (attempt >= 5) throw new Error(`redis-server --cluster-enabled exited at start ${attempt} times (ports taken?)`);
    }
  };
  try {
    for (let i = 0; i < count; i += 1) await startNode();
    await run('redis-cli', [
      '--cluster', 'create', ...processes.map((p) => `127.0.0.1:${p.port}`),
      '--cluster-replicas', String(replicas), '--cluster-yes',
    ]);
    await waitFor(async () => (await Promise.all(processes.map((p) => clusterOk(p.port)))).every(Boolean), {
      timeoutMs: 20_000, intervalMs: 100, description: 'cluster_state:ok on every node',
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: processes.map((p) => ({ host: '127.0.0.1', port: p.port })),
    processes,
    async kill(port) {
      const node = processes.find((p) => p.port === port);
      node?.child?.kill('SIGKILL');
      await exits.get(port);
    },
    stop,
  };
}

/** The port of the master serving `key`'s slot, asked of any live node. */
export async function masterPortOf(nodes: { port: number }[], key: string): Promise<number> {
  const client = new Redis({ port: nodes[0].port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`No node serves slot ${slot}`);
    return Number(range[2][1]);
  } finally {
    client.disconnect();
  }
}

/** Whether the node on `port` reports `cluster_state:ok`. */
export async function clusterOk(port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.includes(port)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
