import { Injectable, Logger } from '@nestjs/common';
import { errorText } from '../core/error-text.js';
import { BrokerEvents } from '../core/events.js';
import { messages } from '../core/messages.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import { isThenable } from '../runtime/thenable.js';
import type { BrokerEventHookDescriptor } from './broker-event-hook.explorer.js';
import { BROKER_EVENT_HOOKS, filterHearsNothing, hookFilterMatcher, type HookBusEvent, type HookedEvent, type StreamGroup } from './broker-event-hook.rules.js';

/** One attached hook: its descriptor, its filter, and its throttled failure log. */
interface AttachedHook {
  hook: BrokerEventHookDescriptor;
  matches: (event: HookedEvent) => boolean;
  failureLog: LogThrottle;
}

/**
 * Connects the `@OnBrokerEvent` hooks to {@link BrokerEvents}: at most one
 * listener per bus event, which calls each hook whose filter matches. A hook
 * runs synchronously inside the emit and is never awaited; what it throws or
 * rejects with is logged (at most once per `logThrottleMs` per hook, with a
 * count of the rest) and never reaches the code that emitted, so delivery
 * goes on as without the hook. `detach` removes the listeners.
 */
@Injectable()
export class BrokerEventHooks {
  private readonly logger = new Logger(BrokerEventHooks.name);
  private readonly detachers: Array<() => void> = [];

  constructor(private readonly events: BrokerEvents) {}

  /** `queues` and `streamGroups`: what this app consumes, which stream filters match against. */
  attach(hooks: readonly BrokerEventHookDescriptor[], queues: readonly string[], streamGroups: readonly StreamGroup[]): void {
    const byBusEvent = new Map<HookBusEvent, AttachedHook[]>();
    for (const hook of hooks) {
      if (filterHearsNothing(hook.filter, queues, streamGroups)) {
        this.logger.warn(messages.eventHookHearsNothing(hook.target, hook.event, hook.filter));
      }
      const bus = BROKER_EVENT_HOOKS[hook.event].bus;
      const attached: AttachedHook = { hook, matches: hookFilterMatcher(hook.filter, streamGroups), failureLog: new LogThrottle() };
      byBusEvent.set(bus, [...(byBusEvent.get(bus) ?? []), attached]);
    }
    for (const [bus, attached] of byBusEvent) {
      const listener = (event: HookedEvent): void => {
        for (const entry of attached) if (entry.matches(event)) this.call(entry, event);
      };
      this.events.on(bus, listener);
      this.detachers.push(() => this.events.off(bus, listener));
    }
  }

  /** Removes every listener `attach` added; idempotent. */
  detach(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }

  private call(entry: AttachedHook, event: HookedEvent): void {
    let result: unknown;
    try {
      result = entry.hook.call(event);
    } catch (error) {
      this.failed(entry, error);
      return;
    }
    if (isThenable(result)) {
      Promise.resolve(result).catch((error: unknown) => this.failed(entry, error));
    }
  }

  private failed(entry: AttachedHook, error: unknown): void {
    const failures = entry.failureLog.note();
    if (failures === undefined) return;
    this.logger.error(messages.eventHookFailed(entry.hook.target, entry.hook.event, errorText(error), failures - 1));
  }
}
