import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ON_BROKER_EVENT_METADATA, ON_CHANNEL_METADATA, QUEUE_HANDLER_METADATA, STREAM_CONSUMER_METADATA } from '../core/constants.js';
import type { OnBrokerEventMetadata } from './decorators/on-broker-event.decorator.js';
import type { OnChannelMetadata } from './decorators/on-channel.decorator.js';
import type { QueueHandlerMetadata } from './decorators/queue-handler.decorator.js';
import type { StreamConsumerMetadata } from './decorators/stream-consumer.decorator.js';

/** The only reader of the broker decorators' metadata. */
@Injectable()
export class BrokerMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  queueHandler(method: (...args: unknown[]) => unknown): QueueHandlerMetadata | undefined {
    return this.reflector.get<QueueHandlerMetadata | undefined>(QUEUE_HANDLER_METADATA, method);
  }

  onChannel(method: (...args: unknown[]) => unknown): OnChannelMetadata | undefined {
    return this.reflector.get<OnChannelMetadata | undefined>(ON_CHANNEL_METADATA, method);
  }

  streamConsumer(method: (...args: unknown[]) => unknown): StreamConsumerMetadata | undefined {
    return this.reflector.get<StreamConsumerMetadata | undefined>(STREAM_CONSUMER_METADATA, method);
  }

  onBrokerEvent(method: (...args: unknown[]) => unknown): OnBrokerEventMetadata[] | undefined {
    return this.reflector.get<OnBrokerEventMetadata[] | undefined>(ON_BROKER_EVENT_METADATA, method);
  }
}
