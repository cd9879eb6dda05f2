import { ClientProxy, type MsPattern, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { BrokerClient } from '../broker/broker.client.js';
import { RequestFailedError } from '../core/errors/request-failed.error.js';
import { BrokerEvents } from '../core/events.js';
import { RedisConnectionFactory, type RedisClient } from '../core/redis/redis-connection.factory.js';
import { decodeRpcError } from './rpc-error.wire.js';
import { STREAM_DATA_FIELD } from './transport-handlers.js';
import { eventTransportOf, resolveClientOptions, type ResolvedClientOptions } from './transport-options.validation.js';
import type { RedisBrokerClientOptions } from './transport.options.js';

interface Connection {
  factory: RedisConnectionFactory;
  command: RedisClient;
  client: BrokerClient;
}

/**
 * A Nest `ClientProxy` for `RedisBrokerServer`, registered with
 * `ClientsModule.register([{ name, customClass: RedisBrokerClientProxy, options }])`.
 *
 * - `emit(pattern, data)` enqueues `data` on the list queue `pattern` (as
 *   `BrokerClient.enqueue`), or appends it to the stream `pattern` as one
 *   field `data` holding its JSON when the routing says `'stream'`; the
 *   Observable completes with the message id (entry id) once Redis has it.
 * - `send(pattern, data)` is `BrokerClient.request`: the Observable emits the
 *   handler's reply and completes, or errors with the handler's RPC error
 *   (the object Nest's exception layer made of it, e.g. `{ status: 'error',
 *   message }`), a `RequestFailedError` (dead-lettered for another reason) or
 *   a `RequestTimeoutError` after `timeoutMs`. Unsubscribing does not recall
 *   the request: it may still run, its reply is dropped.
 *
 * Connections open on the first `connect()` (Nest calls it on first use;
 * rejects when Redis is unreachable) and close on `close()`; `status` emits
 * `connected` and `disconnected`.
 * @publicApi
 */
export class RedisBrokerClientProxy extends ClientProxy {
  private readonly options: ResolvedClientOptions;
  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;

  constructor(options: RedisBrokerClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
  }

  /** Opens the connection (once) and resolves when Redis is ready; rejects with the connection's error. */
  async connect(): Promise<RedisClient> {
    this.connecting ??= this.open();
    try {
      return (await this.connecting).command;
    } catch (error) {
      this.connecting = undefined;
      throw error;
    }
  }

  /** Rejects the requests still waiting, then closes the connections. */
  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    this.connection = undefined;
    const connection = await pending?.catch(() => undefined);
    if (!connection) return;
    await connection.client.beforeApplicationShutdown();
    await connection.factory.onApplicationShutdown();
    this._status$.next('disconnected');
  }

  /** The command connection (an ioredis client); throws before `connect()`. */
  unwrap<T>(): T {
    if (!this.connection) throw new Error('RedisBrokerClientProxy is not connected: call connect() first.');
    return this.connection.command as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern as MsPattern);
    this.client().request(pattern, packet.data, { timeoutMs: this.options.timeoutMs }).then(
      (response: unknown) => callback({ response, isDisposed: true }),
      (error: unknown) => callback({ err: rpcErrorOf(error) }),
    );
    // A request cannot be recalled once enqueued; its reply, if any, is dropped.
    return () => undefined;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern as MsPattern);
    const client = this.client();
    if (eventTransportOf(this.options.routing, pattern) === 'stream') {
      return (await client.append(pattern, { [STREAM_DATA_FIELD]: JSON.stringify(packet.data) })) as T;
    }
    return (await client.enqueue(pattern, packet.data)) as T;
  }

  private client(): BrokerClient {
    if (!this.connection) throw new Error('RedisBrokerClientProxy is not connected.');
    return this.connection.client;
  }

  private async open(): Promise<Connection> {
    const { broker } = this.options;
    const factory = new RedisConnectionFactory(broker, new BrokerEvents());
    const command = factory.create('command', 'client-proxy');
    try {
      await whenReady(command);
    } catch (error) {
      await factory.onApplicationShutdown();
      throw error;
    }
    const connection = { factory, command, client: new BrokerClient(command, broker, factory) };
    this.connection = connection;
    this._status$.next('connected');
    return connection;
  }
}

/** Resolves once the connection is ready, rejects on its first error before that. */
function whenReady(command: RedisClient): Promise<void> {
  if (command.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ready = (): void => {
      command.off('error', failed);
      resolve();
    };
    const failed = (error: Error): void => {
      command.off('ready', ready);
      reject(error);
    };
    command.once('ready', ready);
    command.once('error', failed);
  });
}

/** The error a `send()` subscriber sees: a handler's RPC error as the object it was, anything else as it is. */
function rpcErrorOf(error: unknown): unknown {
  if (error instanceof RequestFailedError && error.reason === 'non-retryable') return decodeRpcError(error.handlerError) ?? error;
  return error;
}
