import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { messages } from '../core/messages.js';
import { resolveSchedule } from './schedule-definition.validation.js';
import { SCHEDULED_METADATA, scheduledQueueName, type ScheduledMetadata } from './scheduled.decorator.js';
import type { StoredSchedule } from './schedule.options.js';

/** A `@Scheduled` method's schedule, validated. */
export interface ScheduledDescriptor {
  id: string;
  schedule: StoredSchedule;
  /** `Class@method`. */
  target: string;
}

/**
 * Finds the `@Scheduled` methods at bootstrap and validates their timing (a
 * bad one throws, naming `Class@method` and the option). Their queue side
 * is found by the handler explorer, as any `@QueueHandler`.
 */
@Injectable()
export class ScheduledExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  explore(): ScheduledDescriptor[] {
    const found: ScheduledDescriptor[] = [];
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      // The prototype carries the decorated methods (also for providers given with useValue).
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype || !wrapper.isDependencyTreeStatic()) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const meta = this.reflector.get<ScheduledMetadata | undefined>(SCHEDULED_METADATA, method);
        if (!meta) continue;
        const target = `${(instance.constructor as { name?: string }).name ?? 'Anonymous'}@${methodName}`;
        try {
          const schedule = resolveSchedule('Scheduled', meta.name, meta.timing, { queue: scheduledQueueName(String(meta.name)) }, meta.payload);
          found.push({ id: meta.name, schedule, target });
        } catch (error) {
          if (error instanceof InvalidBrokerOptionsError) throw new InvalidBrokerOptionsError(messages.invalidHandlerOptions(target, error.message));
          throw error;
        }
      }
    }
    return found;
  }
}
