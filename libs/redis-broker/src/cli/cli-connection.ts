import { Logger } from '@nestjs/common';
import { BrokerEvents, redactUrl, type RedisClient } from '../index.js';
import { RedisConnectionFactory, resolveBrokerOptions, type ConnectionRole, type ResolvedBrokerOptions } from '../internal.js';
import { ConnectionFailedError, UsageError } from './cli-errors.js';

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The CLI's Redis connections. Unlike an app, a command-line tool must fail
 * fast: no reconnect loop, no offline queue, so a wrong URL ends the command
 * with a clear message and exit code 1 instead of hanging.
 */
export class CliConnections {
  readonly options: ResolvedBrokerOptions;
  /** Also opens the BrokerClient's replicated-writes connection (unused by the CLI, which never asks for replicas). */
  readonly factory: RedisConnectionFactory;
  private readonly open: RedisClient[] = [];

  /** `urlSource` names where `url` came from (`--url`, `REDIS_URL`) in errors, which show the URL redacted. */
  constructor(url: string, urlSource: string, keyPrefix: string) {
    if (!/^rediss?:\/\//.test(url)) throw new UsageError(`${urlSource} must start with redis:// or rediss://, got "${redactUrl(url)}"`);
    try {
      this.options = resolveBrokerOptions({
        connection: {
          url,
          redis: { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null },
        },
        keyPrefix,
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    // The factory logs connection errors through Nest's Logger; the CLI reports them itself, once.
    Logger.overrideLogger(false);
    this.factory = new RedisConnectionFactory(this.options, new BrokerEvents());
  }

  /** A connected client for `role`; rejects with `ConnectionFailedError` naming the (redacted) target. */
  async connect(role: ConnectionRole): Promise<RedisClient> {
    const client = this.factory.create(role, 'cli');
    this.open.push(client);
    // The socket's own error (ECONNREFUSED, ENOTFOUND, WRONGPASS) says more than the "Connection is closed" connect() rejects with.
    let cause: Error | undefined;
    const remember = (error: Error): void => void (cause ??= error);
    client.on('error', remember);
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new ConnectionFailedError(`cannot connect to ${this.factory.describeTarget()}: ${reason}`);
    } finally {
      client.off('error', remember);
    }
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.map((client) => this.factory.close(client)));
  }
}
