import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisServerUnavailableError } from '../core/errors/redis-server-unavailable.error.js';
import { messages } from '../core/messages.js';

/**
 * Options of a throwaway `redis-server`.
 * @publicApi
 */
export interface RedisServerOptions {
  /** The binary. Default `redis-server` from PATH. */
  binary?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Persist with an append-only file (survives `restart()`). Default false. */
  appendOnly?: boolean;
  /** More `redis-server` arguments, e.g. `['--maxmemory', '64mb']`. */
  args?: string[];
  /** Longest wait for the server to accept connections. Default 10000 ms. */
  startTimeoutMs?: number;
  /**
   * Run the server in its own process group, so a Ctrl-C in the terminal
   * does not stop it before the apps using it have shut down (the owner
   * stops it with `stop()`). Default false.
   */
  detached?: boolean;
}

/**
 * A `redis-server` process on loopback, in a temporary directory removed on
 * `stop()`. For tests and local runs; never a mock.
 * @publicApi
 */
export class RedisServerHandle {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    /** 127.0.0.1 port the server listens on. */
    readonly port: number,
    /** The server's working directory (AOF files live here). */
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process (again, after `kill`/`shutdown`, on the same port and directory). */
  async start(): Promise<void> {
    if (this.child) return;
    const binary = this.options.binary ?? 'redis-server';
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--save', '', '--appendonly', this.options.appendOnly ? 'yes' : 'no', '--appendfsync', 'always',
      '--daemonize', 'no', '--loglevel', 'warning', ...(this.options.args ?? []),
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: this.options.detached ?? false });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        this.child = undefined;
        reject(new RedisServerUnavailableError(error.code === 'ENOENT' ? messages.redisServerMissing(binary) : error.message));
      });
    });
    this.exited = new Promise<void>((resolve) => child.once('exit', () => {
      if (this.child === child) this.child = undefined;
      resolve();
    }));
    await Promise.race([spawnError, this.waitReady(this.options.startTimeoutMs ?? 10_000, () => stderr)]);
  }

  /** Stops the server hard (SIGKILL): nothing is saved beyond what AOF already has. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** Stops the server cleanly (SIGTERM). */
  async shutdown(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Unfreezes after `pause()`. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server and a clean restart on the same port. */
  async restart(): Promise<void> {
    await this.shutdown();
    await this.start();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    this.resume();
    await this.signalAndWait('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
  }

  private async waitReady(timeoutMs: number, stderr: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.child) throw new RedisServerUnavailableError(`redis-server exited at start: ${stderr().trim()}`);
      const probe = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        // LOADING while the AOF replays: keep waiting.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not listening yet
      } finally {
        probe.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new RedisServerUnavailableError(`redis-server on port ${this.port} did not accept connections within ${timeoutMs} ms`);
  }
}

/**
 * Starts a throwaway `redis-server` on a free loopback port, persistence off
 * unless asked. Throws `RedisServerUnavailableError` with install advice when
 * the binary is missing.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * // ... RedisBrokerModule.forRoot({ connection: { url: redis.url } })
 * await redis.stop();
 * ```
 * @publicApi
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'nrb-redis-'));
  for (let attempt = 0; ; attempt += 1) {
    const handle = new RedisServerHandle(options.port ?? (await freePort()), dir, options);
    try {
      await handle.start();
      return handle;
    } catch (error) {
      // Another process may have taken the free port in between: try another.
      if (options.port !== undefined || attempt >= 4 || !(error instanceof RedisServerUnavailableError) || /not installed/.test(error.message)) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

/**
 * A TCP port free on 127.0.0.1 right now.
 * @publicApi
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
