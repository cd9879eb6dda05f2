import type { RedisClient } from '../connection/redis-connection.factory.js';
import { InvalidBrokerOptionsError } from '../errors/invalid-broker-options.error.js';
import { channelName } from '../keys.js';
import { messages } from '../messages.js';

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
}

const PUBLISH_KEYS = ['sharded'];

/** Writes channel messages: a string as it is, anything else as JSON. */
export class ChannelPublisher {
  constructor(
    private readonly command: RedisClient,
    private readonly prefix: string,
  ) {}

  async publish(channel: string, message: unknown, options: PublishOptions = {}): Promise<number> {
    for (const key of Object.keys(options)) {
      if (!PUBLISH_KEYS.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(`publish.${key}`, PUBLISH_KEYS));
    }
    if (options.sharded !== undefined && typeof options.sharded !== 'boolean') {
      throw new InvalidBrokerOptionsError(messages.invalidOption('publish.sharded', options.sharded, 'true or false'));
    }
    const wire = channelName(this.prefix, channel);
    const body = typeof message === 'string' ? message : JSON.stringify(message);
    if (body === undefined) throw new TypeError(`Cannot publish ${typeof message}: messages are strings or JSON values`);
    const receivers = options.sharded ? await this.command.spublish(wire, body) : await this.command.publish(wire, body);
    return Number(receivers);
  }
}
