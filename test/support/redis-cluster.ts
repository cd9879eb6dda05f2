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
  /** Freezes one node (SIGSTOP): its connections stay open, nothing answers. */
  pause(port: number): void;
  /** Unfreezes a node after `pause` (SIGCONT). */
  resume(port: number): void;
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
    for (const p of processes) {
      p.child?.kill('SIGCONT');
      p.child?.kill('SIGKILL');
    }
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
    pause(port) {
      processes.find((p) => p.port === port)?.child?.kill('SIGSTOP');
    },
    resume(port) {
      processes.find((p) => p.port === port)?.child?.kill('SIGCONT');
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

/** The port of an online replica of the master on `masterPort`, as that master reports it; `undefined` if it has none (yet). */
export async function replicaPortOf(masterPort: number): Promise<number | undefined> {
  const info = String(await onNode(masterPort, (client) => client.info('replication')));
  const port = /slave\d+:ip=[^,]+,port=(\d+),state=online/.exec(info)?.[1];
  return port === undefined ? undefined : Number(port);
}

/**
 * Moves `slot` from the master on `from` to the master on `to`, keys
 * included, as `redis-cli --cluster reshard` does: `SETSLOT IMPORTING` on
 * `to`, `MIGRATING` on `from`, then `MIGRATE` of `batch` keys at a time until
 * `from` holds none (`between` runs after each batch, so a test can let
 * clients work while the slot is half moved), then `SETSLOT NODE` on `to`,
 * `from` and every other master. Resolves to the number of keys moved.
 */
export async function moveSlot(
  masters: { port: number }[], slot: number, from: number, to: number,
  options: { batch?: number; between?: () => Promise<void> } = {},
): Promise<number> {
  const idOf = (port: number) => onNode(port, async (client) => String(await client.call('CLUSTER', 'MYID')));
  const [fromId, toId] = [await idOf(from), await idOf(to)];
  await onNode(to, (client) => client.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId));
  await onNode(from, (client) => client.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId));
  let moved = 0;
  for (;;) {
    const keys = (await onNode(from, (client) => client.call('CLUSTER', 'GETKEYSINSLOT', slot, options.batch ?? 1))) as string[];
    if (keys.length === 0) break;
    await onNode(from, (client) => client.call('MIGRATE', '127.0.0.1', to, '', 0, 10_000, 'KEYS', ...keys));
    moved += keys.length;
    await options.between?.();
  }
  // The new owner first, then the old one, then the others: as redis-cli does.
  for (const port of [to, from, ...masters.map((m) => m.port).filter((p) => p !== to && p !== from)]) {
    await onNode(port, (client) => client.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId));
  }
  return moved;
}

/** Runs `command` on a fresh plain connection to one node. */
async function onNode<T>(port: number, command: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await command(client);
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
