import { Injectable } from '@nestjs/common';
import { DuplicateHandlerError } from '../core/errors/duplicate-handler.error.js';
import { messages } from '../core/messages.js';
import type { HandlerDescriptor } from './handler-descriptor.js';

/**
 * Every handler discovered at bootstrap, keyed by what it consumes; a second
 * claim of the same queue (or stream group) throws `DuplicateHandlerError`.
 * Channel handlers fan out: any number may listen to one channel, so they
 * are keyed by channel and handler.
 * @publicApi
 */
@Injectable()
export class HandlerRegistry {
  private readonly byKey = new Map<string, HandlerDescriptor>();

  add(descriptor: HandlerDescriptor): void {
    const key =
      descriptor.kind === 'channel'
        ? `channel:${descriptor.channel.kind}:${descriptor.channel.name}:${descriptor.target}`
        : descriptor.kind === 'queue'
          ? `queue:${descriptor.queue}`
          : `stream:${descriptor.stream}:${descriptor.group}`;
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
    return this.all().flatMap((d) => (d.kind === 'queue' ? [d.queue] : []));
  }

  /** Every consumed stream with its group. */
  streamGroups(): { stream: string; group: string }[] {
    return this.all().flatMap((d) => (d.kind === 'stream' ? [{ stream: d.stream, group: d.group }] : []));
  }
}
