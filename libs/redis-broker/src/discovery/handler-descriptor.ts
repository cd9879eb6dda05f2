import type { ChannelTarget } from '../core/channel-target.js';
import type {
  ResolvedChannelListenerOptions,
  ResolvedQueueHandlerOptions,
  ResolvedStreamConsumerOptions,
} from '../core/options/handler.options.js';

/**
 * Calls a discovered handler through Nest's enhancer pipeline (guards,
 * interceptors, pipes, filters), or directly when none applies. Returns a
 * promise when the handler is asynchronous (or the pipeline is used), else
 * the handler's own result: a synchronous handler costs no promise.
 */
export type HandlerInvoker = (payload: unknown, context: object) => unknown;

/** A `@QueueHandler` method found at bootstrap. */
export interface QueueHandlerDescriptor {
  kind: 'queue';
  queue: string;
  options: ResolvedQueueHandlerOptions;
  /** `Class@method`, for logs and metrics. */
  target: string;
  invoke: HandlerInvoker;
}

/** An `@OnChannel` method found at bootstrap. Several may share a channel (fan-out). */
export interface ChannelHandlerDescriptor {
  kind: 'channel';
  channel: ChannelTarget;
  options: ResolvedChannelListenerOptions;
  /** `Class@method`, for logs and metrics. */
  target: string;
  invoke: HandlerInvoker;
}

/** A `@StreamConsumer` method found at bootstrap. */
export interface StreamHandlerDescriptor {
  kind: 'stream';
  stream: string;
  group: string;
  /** The consumer name given on the decorator; the runner defaults it to the instance id. */
  consumer: string | undefined;
  options: ResolvedStreamConsumerOptions;
  /** `Class@method`, for logs and metrics. */
  target: string;
  invoke: HandlerInvoker;
}

/** Every kind of handler the explorer can find. */
export type HandlerDescriptor = QueueHandlerDescriptor | StreamHandlerDescriptor | ChannelHandlerDescriptor;
