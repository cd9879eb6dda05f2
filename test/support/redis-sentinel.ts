import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, waitFor, type RedisServerHandle } from 'nest-redis-broker/testing';

/** One `redis-sentinel` process of a test deployment. */
export interface SentinelProcess {
  port: number;
  child: ChildProcess | undefined;
}

/** A master, its replica and three sentinels on loopback, made of throwaway processes. */
export interface RedisSentinelHandle {
  /** The master group name, for `connection: { sentinels, name }`. */
  name: string;
  /** Addresses for `connection: { sentinels }`. */
  sentinels: { host: string; port: number }[];
  /** The two redis-servers; which one is master changes with each failover. */
  servers: RedisServerHandle[];
  /** The port of the master, as the first sentinel reports it. */
  masterPort(): Promise<number>;
  /**
   * `SENTINEL FAILOVER <name>`, then waits until every sentinel names the
   * other server as master, that server says so itself and the old master
   * replicates from it.
   */
  failover(): Promise<void>;
  /** Waits until every sentinel names a master other than `port`, and that server reports the master role. */
  waitForMasterOtherThan(port: number): Promise<void>;
  /** Waits until the master the sentinels name has its replica online. */
  waitForReplicaOnline(): Promise<void>;
  /** Kills every process and removes the directories. */
  stop(): Promise<void>;
}

const SENTINELS = 3;
const QUORUM = 2;
const DOWN_AFTER_MS = 1_000;

/**
 * Starts a master and one replica (`startRedisServer`) and three
 * `redis-sentinel`s watching the master (quorum 2, `down-after-milliseconds`
 * 1000), on free loopback ports, and waits until every sentinel knows the
 * replica and the two other sentinels, so a failover can be ordered at once.
 */
export async function startRedisSentinel(options: { name?: string } = {}): Promise<RedisSentinelHandle> {
  const name = options.name ?? 'nrb-master';
  const dir = mkdtempSync(join(tmpdir(), 'nrb-sentinel-'));
  const servers: RedisServerHandle[] = [];
  const sentinels: SentinelProcess[] = [];
  const exits: Promise<void>[] = [];
  const stop = async (): Promise<void> => {
    for (const s of sentinels) s.child?.kill('SIGKILL');
    await Promise.all(exits);
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  /** A sentinel rewrites its config file, so each gets its own; a port taken meanwhile means another try. */
  const startSentinel = async (masterPort: number): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      writeFileSync(config, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'daemonize no', 'loglevel warning', 'logfile ""',
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${QUORUM}`,
        `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${name} 10000`,
      ].join('\n'));
      const child = spawn('redis-sentinel', [config], { stdio: 'ignore' });
      const sentinel: SentinelProcess = { port, child };
      exits.push(new Promise<void>((resolve) => child.once('exit', () => {
        sentinel.child = undefined;
        resolve();
      })));
      sentinels.push(sentinel);
      await waitFor(async () => sentinel.child === undefined || (await ask(port, (c) => c.ping())) === 'PONG', {
        timeoutMs: 10_000, description: `sentinel ${port} to listen`,
      });
      if (sentinel.child !== undefined) return;
      sentinels.splice(sentinels.indexOf(sentinel), 1);
      if (attempt >= 5) throw new Error(`redis-sentinel exited at start ${attempt} times (ports taken?)`);
    }
  };
  const masterAddr = async (port: number): Promise<number | undefined> => {
    const reply = (await ask(port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as [string, string] | null | undefined;
    return reply ? Number(reply[1]) : undefined;
  };
  const waitForMasterOtherThan = async (old: number): Promise<void> => {
    await waitFor(async () => {
      const named = await Promise.all(sentinels.map((s) => masterAddr(s.port)));
      const master = named[0];
      if (master === undefined || master === old || named.some((port) => port !== master)) return false;
      return /role:master/.test(String(await ask(master, (c) => c.info('replication'))));
    }, { timeoutMs: 60_000, intervalMs: 200, description: `every sentinel to name a master other than ${old}` });
  };
  const waitForReplicaOnline = async (): Promise<void> => {
    await waitFor(async () => {
      const master = await masterAddr(sentinels[0].port);
      return master !== undefined && /slave0:.*state=online/.test(String(await ask(master, (c) => c.info('replication'))));
    }, { timeoutMs: 60_000, intervalMs: 200, description: 'the master to have its replica online' });
  };
  const masterPort = async (): Promise<number> => {
    const port = await masterAddr(sentinels[0].port);
    if (port === undefined) throw new Error(`sentinel ${sentinels[0].port} names no master for ${name}`);
    return port;
  };
  try {
    const master = await startRedisServer();
    servers.push(master);
    servers.push(await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] }));
    for (let i = 0; i < SENTINELS; i += 1) await startSentinel(master.port);
    await waitFor(async () => {
      for (const { port } of sentinels) {
        const replicas = (await ask(port, (c) => c.call('SENTINEL', 'REPLICAS', name))) as string[][] | undefined;
        const others = (await ask(port, (c) => c.call('SENTINEL', 'SENTINELS', name))) as unknown[] | undefined;
        const ready = replicas?.length === 1 && flags(replicas[0]) === 'slave' && others?.length === SENTINELS - 1;
        if (!ready) return false;
      }
      return true;
    }, { timeoutMs: 30_000, intervalMs: 200, description: 'every sentinel to know the replica and the other sentinels' });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name,
    sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    servers,
    masterPort,
    async failover() {
      const old = await masterPort();
      await ask(sentinels[0].port, (c) => c.call('SENTINEL', 'FAILOVER', name), true);
      await waitForMasterOtherThan(old);
      await waitForReplicaOnline();
    },
    waitForMasterOtherThan,
    waitForReplicaOnline,
    stop,
  };
}

/** The `flags` field of a `SENTINEL REPLICAS` entry (a flat field/value list). */
function flags(entry: string[]): string | undefined {
  const at = entry.indexOf('flags');
  return at < 0 ? undefined : entry[at + 1];
}

/** Runs one command on a fresh connection to `port`; `undefined` when it fails, unless `strict`. */
async function ask<T>(port: number, command: (client: Redis) => Promise<T>, strict = false): Promise<T | undefined> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await command(client);
  } catch (error) {
    if (strict) throw error;
    return undefined;
  } finally {
    client.disconnect();
  }
}
