import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { BROKER_COMMAND_CONNECTION, RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { RedisConnectionFactory, type RedisClient } from '../core/redis/redis-connection.factory.js';
import { ReplicatedWriter } from '../core/redis/replicated-writer.js';
import { NameRegistry } from '../core/redis/name.registry.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { ChannelPublisher, type PublishOptions } from '../pubsub/channel.publisher.js';
import { QueueProducer, type EnqueueOptions } from '../queue/queue.producer.js';
import { QueueRequester, type RequestOptions } from '../queue/queue.requester.js';
import { StreamProducer, type AppendOptions, type StreamFields } from '../stream/stream.producer.js';
import { otelApi } from '../runtime/tracing/otel-api.js';

/**
 * The producer side of the broker, injectable anywhere once the module is
 * imported. Everything it writes is plain Redis: a JSON string on a list, a
 * flat field map on a stream, a string on a channel.
 * @publicApi
 */
@Injectable()
export class BrokerClient implements BeforeApplicationShutdown {
  private readonly queues: QueueProducer;
  private readonly requester: QueueRequester;
  private readonly channels: ChannelPublisher;
  private readonly streams: StreamProducer;

  constructor(
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
    @Inject(RESOLVED_BROKER_OPTIONS) options: ResolvedBrokerOptions,
    connections: RedisConnectionFactory,
    // The module's registry, shared with the consumers; a client built by hand gets its own.
    @Optional() names?: NameRegistry,
  ) {
    const registry = names ?? new NameRegistry(command, options.keyPrefix);
    // Opened on the first write with `replicas`; the factory closes it at shutdown.
    const replicated = new ReplicatedWriter(() => connections.create('blocking', 'replicated-writes'));
    this.queues = new QueueProducer(command, options.keyPrefix, registry, replicated);
    // Its blocking connection opens on the first request; closed at shutdown, after the consumers stop.
    this.requester = new QueueRequester(this.queues, options.keyPrefix, () => connections.create('blocking', 'replies'), (c) => connections.close(c));
    this.channels = new ChannelPublisher(command, options.keyPrefix);
    this.streams = new StreamProducer(command, options.keyPrefix, options.streams, registry, replicated);
    // The optional tracing api is required now, at bootstrap (every app of the module builds a client):
    // its first require takes about 30 ms, which would otherwise stall the first message sent or handled.
    otelApi();
  }

  /**
   * Adds one message to a list queue: `LPUSH queue <envelope>`, a small JSON
   * object around `JSON.stringify(payload)` with a new id, the enqueue time
   * and `headers` (see docs/wire-format.md: readable by any client). With
   * `delayMs`, `dedupKey` or `priority: 'high'` it goes through one atomic
   * script instead. Resolves once Redis has stored it, to the message's id
   * (unique, the handler's `ctx.id`); `null` when skipped as a duplicate.
   * Rejects when Redis is unreachable (after ioredis' retries): nothing is
   * silently dropped. With `replicas: n` it resolves only once n replicas
   * have the message (`WAIT`), else rejects with `ReplicationNotConfirmedError`.
   */
  enqueue(queue: string, payload: unknown, options?: EnqueueOptions): Promise<string | null> {
    return this.queues.enqueue(queue, payload, options);
  }

  /**
   * Adds many messages in one round trip, in order (the first is consumed
   * first): up to 1000 payloads as one `LPUSH` (atomic by itself), more as
   * one transaction (`MULTI`, one `LPUSH` per 1000 payloads, `EXEC`).
   * Resolves to the messages' ids, in order. Redis stores the whole batch or none of it:
   * a rejection is an `EnqueueManyError` whose `stored` is `0` when
   * Redis refused the batch (retrying stores each message once), or `null`
   * when the connection failed on the way (all or none stored). A payload
   * that cannot be encoded (e.g. `undefined`) fails the call before anything
   * is sent, with a `TypeError`.
   */
  enqueueMany(queue: string, payloads: readonly unknown[]): Promise<string[]> {
    return this.queues.enqueueMany(queue, payloads);
  }

  /**
   * Sends a request to a list queue and resolves to its handler's return
   * value (JSON-encoded by the worker, parsed back; `undefined` comes back as
   * `null`). The request is an ordinary reliable queue message (an envelope
   * whose `nrb-reply-to` header names this client's reply list, its id the
   * request's id), so it is retried and survives a worker crash like any
   * other; the handler is a plain `@QueueHandler`. The worker pushes the reply
   * to the reply list (`RPUSH` + `PEXPIRE`, never pub/sub) before it acks.
   * Rejects with `RequestFailedError` (its `reason` and the handler's error
   * message) when the message is dead-lettered, with `RequestTimeoutError`
   * when no reply came within `timeoutMs` (default 30 s), or with the enqueue's
   * error. At-least-once: the handler may run more than once for one request
   * (only the first reply counts): make it idempotent. See docs/request-reply.md.
   */
  request<T = unknown>(queue: string, payload: unknown, options?: RequestOptions): Promise<T> {
    return this.requester.request(queue, payload, options) as Promise<T>;
  }

  /** Stops the reply loop after the consumers have stopped (their handlers may send requests): waiting requests reject. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.requester.stop();
  }

  /**
   * Publishes a message on a pub/sub channel (with the key prefix): a string
   * as it is (`PUBLISH hello world`), anything else as JSON. Resolves to the
   * number of subscribers that received it, as `PUBLISH` returns it (on a
   * Cluster: those connected to the node that ran it). Fire-and-forget:
   * nobody subscribed now means nobody ever gets it. `{ sharded: true }` uses
   * `SPUBLISH` (Redis 7) for `@OnChannel({ channel, sharded: true })` listeners.
   */
  publish(channel: string, message: unknown, options?: PublishOptions): Promise<number> {
    return this.channels.publish(channel, message, options);
  }

  /**
   * Publishes many messages on one channel in one round trip (pipelined
   * `PUBLISH`, or `SPUBLISH` with `{ sharded: true }`), in order, each encoded
   * as `publish` does. Resolves to each message's receiver count. A message
   * that cannot be encoded (e.g. `undefined`) fails the call before anything
   * is published.
   */
  publishMany(channel: string, messages: readonly unknown[], options?: PublishOptions): Promise<number[]> {
    return this.channels.publishMany(channel, messages, options);
  }

  /**
   * Appends one entry to a stream: `XADD stream * field value ...`, the flat
   * field map of the design notes (`userId`, `eventType`, `data`,
   * `timestamp`), readable by any client. A nested value is JSON-encoded in
   * its field. Trimming (`MAXLEN ~` / `MINID ~`) comes from `options`, else
   * from the module's `streams.<name>`, else none. Resolves to the entry id.
   * With `replicas: n` it resolves only once n replicas have the entry
   * (`WAIT`), else rejects with `ReplicationNotConfirmedError`.
   */
  append(stream: string, fields: StreamFields, options?: AppendOptions): Promise<string> {
    return this.streams.append(stream, fields, options);
  }

  /**
   * Appends many entries in one round trip (pipelined `XADD`), in order.
   * Resolves to their ids. With `replicas`, one `WAIT` follows every 1000 entries.
   */
  appendMany(stream: string, entries: readonly StreamFields[], options?: AppendOptions): Promise<string[]> {
    return this.streams.appendMany(stream, entries, options);
  }

  /** The shared command connection, for anything the broker does not wrap. */
  get redis(): RedisClient {
    return this.command;
  }
}
