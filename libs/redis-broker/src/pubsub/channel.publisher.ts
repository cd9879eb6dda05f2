import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { channelName } from '../core/keys.js';
import { messages } from '../core/messages.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { activeTracer } from '../runtime/tracing/otel-api.js';
import { traceSend, type TraceFields } from '../runtime/tracing/send-tracing.js';

/**
 * Options of one publish.
 * @publicApi
 */
export interface PublishOptions {
  /**
   * Publish with `SPUBLISH` (Redis 7 sharded pub/sub) to listeners of
   * `{ channel, sharded: true }`. On a Cluster the message then stays on the
   * shard that owns the channel's slot instead of going to every node.
   * Default false (`PUBLISH`).
   */
  sharded?: boolean;
  /**
   * With a registered OpenTelemetry tracer provider, add the publish span's
   * trace context (`traceparent`, `tracestate`) as properties of the
   * published object, so each listener's span links to it. Only a plain
   * object is changed (a copy; strings, arrays and other values are sent as
   * they are), and an object that has a `traceparent` of its own keeps it.
   * Default false: the message is sent exactly as given. See docs/tracing.md.
   */
  traceContext?: boolean;
}

const PUBLISH_KEYS = ['sharded', 'traceContext'];

/** Writes channel messages: a string as it is, anything else as JSON. */
export class ChannelPublisher {
  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
  ) {}

  async publish(channel: string, message: unknown, options: PublishOptions = {}): Promise<number> {
    // Tracing (runtime/tracing, docs/tracing.md): a PRODUCER span; off: one lookup.
    const tracer = activeTracer();
    if (tracer === undefined) return this.write(channel, message, options);
    return traceSend(tracer, { destination: channel, carrier: message }, (trace) => this.write(channel, withTraceProperties(message, options, trace), options));
  }

  private async write(channel: string, message: unknown, options: PublishOptions): Promise<number> {
    const sharded = validatePublishOptions(options);
    const wire = channelName(this.prefix, channel);
    const body = encode(message);
    const receivers = sharded ? await this.command.spublish(wire, body) : await this.command.publish(wire, body);
    return Number(receivers);
  }

  async publishMany(channel: string, messages: readonly unknown[], options: PublishOptions = {}): Promise<number[]> {
    // Tracing: one PRODUCER span for the batch.
    const tracer = activeTracer();
    if (tracer === undefined) return this.writeMany(channel, messages, options);
    return traceSend(tracer, { destination: channel, batchCount: messages.length }, (trace) =>
      this.writeMany(channel, trace === undefined ? messages : messages.map((message) => withTraceProperties(message, options, trace)), options));
  }

  private async writeMany(channel: string, messages: readonly unknown[], options: PublishOptions): Promise<number[]> {
    const sharded = validatePublishOptions(options);
    const wire = channelName(this.prefix, channel);
    // Every message is encoded before any is sent: one that cannot be is refused with none published.
    const bodies = messages.map(encode);
    const receivers: number[] = [];
    for (let i = 0; i < bodies.length; i += BROKER_DEFAULTS.produceChunk) {
      const pipeline = this.command.pipeline();
      for (const body of bodies.slice(i, i + BROKER_DEFAULTS.produceChunk)) {
        if (sharded) pipeline.spublish(wire, body);
        else pipeline.publish(wire, body);
      }
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        receivers.push(Number(count));
      }
    }
    return receivers;
  }
}

/** With `traceContext`, a plain object gets the trace fields it does not have; anything else is returned as it is. */
function withTraceProperties(message: unknown, options: PublishOptions, trace: TraceFields | undefined): unknown {
  if (trace === undefined || options?.traceContext !== true) return message;
  if (typeof message !== 'object' || message === null || Object.getPrototypeOf(message) !== Object.prototype) return message;
  return { ...trace, ...message };
}

/** Checks a publish's options; returns whether it is sharded. */
function validatePublishOptions(options: PublishOptions): boolean {
  for (const key of Object.keys(options)) {
    if (!PUBLISH_KEYS.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(`publish.${key}`, PUBLISH_KEYS));
  }
  if (options.sharded !== undefined && typeof options.sharded !== 'boolean') {
    throw new InvalidBrokerOptionsError(messages.invalidOption('publish.sharded', options.sharded, 'true or false'));
  }
  if (options.traceContext !== undefined && typeof options.traceContext !== 'boolean') {
    throw new InvalidBrokerOptionsError(messages.invalidOption('publish.traceContext', options.traceContext, 'true or false'));
  }
  return options.sharded === true;
}

function encode(message: unknown): string {
  const body = typeof message === 'string' ? message : JSON.stringify(message);
  if (body === undefined) throw new TypeError(`Cannot publish ${typeof message}: messages are strings or JSON values`);
  return body;
}
