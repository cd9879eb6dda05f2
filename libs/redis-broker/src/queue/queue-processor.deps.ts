import type { BrokerEvents } from '../core/events.js';
import type { ResolvedQueueHandlerOptions } from '../core/options/handler.options.js';
import type { HandlerInvoker } from '../discovery/handler-descriptor.js';
import type { KeyRateGate } from '../runtime/limits/key-rate.gate.js';
import type { RunSignals } from '../runtime/run-signals.js';
import type { QueueDelivery } from './queue-delivery.js';
import type { QueueReplySender } from './queue-reply.sender.js';
import type { QueueSettler } from './queue.settler.js';

/** How a delivery left the processor; `handed-back`: failed after shutdown's deadline, left for the hand-back. */
export type QueueOutcome = 'settled' | 'unsettled' | 'ack-failed' | 'handed-back';

/** What the processor needs from the rest of one queue consumer. */
export interface QueueProcessorDeps {
  queue: string;
  consumerId: string;
  handler: string;
  invoke: HandlerInvoker;
  options: ResolvedQueueHandlerOptions;
  settler: QueueSettler;
  events: BrokerEvents;
  /**
   * Called once a delivery is settled, or could not be: `unsettled` when
   * nothing is known of it (it runs again), `ack-failed` when its handler
   * succeeded but the ack did not return (the ack is re-sent instead).
   */
  release: (delivery: QueueDelivery, outcome: QueueOutcome) => void;
  /** Most acks outstanding with their slots freed (the loop's window). */
  maxAcking: number;
  /** Called when a retry is scheduled `ms` from now. */
  retryScheduled: (ms: number) => void;
  /** The runs' abort signals and `timeoutMs` clock. */
  signals: RunSignals;
  /** Sends the replies of request messages (those with an `nrb-reply-to` header). */
  replies: QueueReplySender;
  /** `rateLimit.key`: each message's key is admitted before it runs. */
  keyGate?: KeyRateGate;
}
