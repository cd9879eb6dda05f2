import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { RESOLVED_BROKER_OPTIONS } from '../core/constants.js';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { assertValidName } from '../core/keys.js';
import { messages } from '../core/messages.js';
import { toChannelTarget } from '../core/channel-target.js';
import {
  resolveChannelListenerOptions,
  resolveQueueHandlerOptions,
  resolveStreamConsumerOptions,
} from '../core/options/handler-options.validation.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { BrokerMetadataAccessor } from './broker-metadata.accessor.js';
import { HandlerContextFactory } from './handler-context.factory.js';
import type { HandlerDescriptor } from './handler-descriptor.js';

/**
 * Walks every provider and controller once at bootstrap and turns each
 * decorated method into a {@link HandlerDescriptor}. Bad handler options
 * throw here, so a misconfigured app fails to boot.
 */
@Injectable()
export class HandlerExplorer {
  private readonly logger = new Logger(HandlerExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: BrokerMetadataAccessor,
    private readonly contextFactory: HandlerContextFactory,
    @Inject(RESOLVED_BROKER_OPTIONS) private readonly options: ResolvedBrokerOptions,
  ) {}

  explore(): HandlerDescriptor[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<object>();
    return wrappers.flatMap((wrapper) => {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) return [];
      seen.add(instance);
      return this.exploreInstance(wrapper, instance);
    });
  }

  private exploreInstance(wrapper: InstanceWrapper, instance: object): HandlerDescriptor[] {
    // The prototype, not the instance, carries the decorated methods; reading
    // it through `instance` also covers providers registered with useValue.
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) return [];
    const className = (instance.constructor as { name?: string }).name ?? 'Anonymous';
    const found: HandlerDescriptor[] = [];
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, (...args: unknown[]) => unknown>)[methodName];
      if (typeof method !== 'function') continue;
      const queueMeta = this.accessor.queueHandler(method);
      const streamMeta = this.accessor.streamConsumer(method);
      const channelMeta = this.accessor.onChannel(method);
      if (!queueMeta && !streamMeta && !channelMeta) continue;
      const target = `${className}@${methodName}`;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(messages.requestScopedHandler(target));
        continue;
      }
      try {
        if (queueMeta) {
          assertValidName('queue', queueMeta.queue);
          found.push({
            kind: 'queue',
            queue: queueMeta.queue,
            options: resolveQueueHandlerOptions(target, queueMeta.options, this.options.queueDefaults),
            target,
            invoke: this.contextFactory.create(instance, methodName),
          });
        }
        if (streamMeta) {
          assertValidName('stream', streamMeta.stream);
          assertValidName('group', streamMeta.group);
          if (streamMeta.consumer !== undefined) assertValidName('consumer', streamMeta.consumer);
          found.push({
            kind: 'stream',
            stream: streamMeta.stream,
            group: streamMeta.group,
            consumer: streamMeta.consumer,
            options: resolveStreamConsumerOptions(target, streamMeta.options, this.options.streamDefaults),
            target,
            invoke: this.contextFactory.create(instance, methodName),
          });
        }
        if (channelMeta) {
          found.push({
            kind: 'channel',
            channel: toChannelTarget(channelMeta.selector, this.options.keyPrefix),
            options: resolveChannelListenerOptions(target, channelMeta.options, this.options.channelDefaults),
            target,
            invoke: this.contextFactory.create(instance, methodName),
          });
        }
      } catch (error) {
        if (error instanceof InvalidBrokerOptionsError) {
          throw new InvalidBrokerOptionsError(messages.invalidHandlerOptions(target, error.message));
        }
        throw error;
      }
    }
    return found;
  }
}
