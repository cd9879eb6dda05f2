import type { BrokerEvents } from '../core/events.js';
import type { ResolvedStreamConsumerOptions } from '../core/options/handler.options.js';
import type { HandlerInvoker } from '../discovery/handler-descriptor.js';
import type { RunSignals } from '../runtime/run-signals.js';
import type { StreamEntry } from './stream-entry.js';
import type { StreamSettler } from './stream.settler.js';

/** What the processor needs from the rest of one group consumer. */
export interface StreamProcessorDeps {
  stream: string;
  group: string;
  consumer: string;
  handler: string;
  invoke: HandlerInvoker;
  options: ResolvedStreamConsumerOptions;
  settler: StreamSettler;
  events: BrokerEvents;
  /** Called once an entry is settled or left pending. */
  release: (entry: StreamEntry) => void;
  /** Called when a failed entry should run again `delayMs` from now. */
  retryScheduled: (entry: StreamEntry, delayMs: number) => void;
  /**
   * Most acks outstanding with their slots already freed; past it an entry
   * keeps its slot until its own `XACK` returns.
   */
  maxAcking: number;
  /** The runs' abort signals and `timeoutMs` clock. */
  signals: RunSignals;
}
