import { Injectable } from '@nestjs/common';
import { DuplicateHandlerError } from '../errors/duplicate-handler.error.js';
import { messages } from '../messages.js';
import type { HandlerDescriptor } from './handler-descriptor.js';

/**
 * Every handler discovered at bootstrap, keyed by what it consumes; a second
 * claim of a queue throws. Channel handlers fan out: any number may listen to
 * one channel, so they are keyed by channel and handler.
 */
@Injectable()
export class HandlerRegistry {
  private readonly byKey = new Map<string, HandlerDescriptor>();

  add(descriptor: HandlerDescriptor): void {
    const key =
      descriptor.kind === 'channel'
        ? `channel:${descriptor.channel.kind}:${descriptor.channel.name}:${descriptor.target}`
        : `queue:${descriptor.queue}`;
    const existing = this.byKey.get(key);
    if (existing) {
      throw new DuplicateHandlerError(messages.duplicateHandler(key, existing.target, descriptor.target));
    }
    this.byKey.set(key, descriptor);
  }

  all(): HandlerDescriptor[] {
    return [...this.byKey.values()];
  }

  queues(): string[] {
    return this.all().filter((d) => d.kind === 'queue').map((d) => d.queue);
  }
}
