import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { messages } from '../core/messages.js';
import { BrokerMetadataAccessor } from './broker-metadata.accessor.js';
import { assertValidHook } from './broker-event-hook.rules.js';
import type { BrokerEventFilter, BrokerEventName } from './decorators/on-broker-event.decorator.js';

/** An `@OnBrokerEvent` method found at bootstrap. */
export interface BrokerEventHookDescriptor {
  event: BrokerEventName;
  filter: BrokerEventFilter | undefined;
  /** `Class@method`, for logs. */
  target: string;
  /** Calls the method on its instance with the event; returns what it returns. */
  call: (event: unknown) => unknown;
}

/**
 * Walks every provider and controller once at bootstrap and turns each
 * `@OnBrokerEvent` into a {@link BrokerEventHookDescriptor}. An unknown
 * event or a filter that cannot match throws here, so the app fails to boot.
 */
@Injectable()
export class BrokerEventHookExplorer {
  private readonly logger = new Logger(BrokerEventHookExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: BrokerMetadataAccessor,
  ) {}

  explore(): BrokerEventHookDescriptor[] {
    const found: BrokerEventHookDescriptor[] = [];
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      // The prototype carries the decorated methods (also for useValue providers).
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      const className = (instance.constructor as { name?: string }).name ?? 'Anonymous';
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, (...args: unknown[]) => unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const hooks = this.accessor.onBrokerEvent(method);
        if (!hooks || hooks.length === 0) continue;
        const target = `${className}@${methodName}`;
        for (const { event, filter } of hooks) assertValidHook(target, event, filter);
        if (!wrapper.isDependencyTreeStatic()) {
          // A request-scoped instance exists per request: there is none to call when a message settles.
          this.logger.warn(messages.requestScopedHandler(target));
          continue;
        }
        const call = (event: unknown): unknown => method.call(instance, event);
        for (const { event, filter } of hooks) found.push({ event, filter, target, call });
      }
    }
    return found;
  }
}
