import { Logger } from '@nestjs/common';
import { messages } from '../core/messages.js';
import type { BrokerEvents } from '../core/events.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedChannelListenerOptions } from '../core/options/handler.options.js';
import { errorText } from '../core/error-text.js';
import type { ChannelMessageContext } from './channel-message.context.js';
import type { ChannelListener, ChannelListenerStats } from './channel-listener.js';
import { CHANNEL_PAYLOAD_PARSERS } from './channel-payload.parsers.js';
import { RingBuffer } from './ring-buffer.js';
import { LogThrottle } from '../runtime/log-throttle.js';
import { ProcessTracing, type ProcessMessage } from '../runtime/tracing/process-tracing.js';

/**
 * Runs one listener's messages without ever holding up the socket. A message
 * that arrives while the listener has a free run slot and nothing waits runs
 * at once, on the socket's turn: a synchronous handler that keeps up thus
 * never touches the buffer, however fast messages come. Otherwise the
 * message waits in a bounded buffer, drained from a microtask at most
 * `concurrency` at once. Buffered messages run back to back until they used
 * `channelDispatchSliceMs` of CPU time (checked every `channelDispatchBatch`
 * runs), then the event loop reads the socket again. CPU time, not a count
 * or the clock: one turn may read tens of thousands of small messages, which
 * a fast (even `async`) handler must be able to run before the next turn, and
 * time the process spends descheduled must not count against it. So a slow
 * handler never stops the socket from being read (Redis would otherwise
 * disconnect the subscriber once its output buffer is full), and memory stays
 * bounded by `bufferSize` messages and `maxBufferBytes` bytes: a full buffer
 * drops by the overflow policy. A handler's error is logged (throttled) and
 * never reaches other listeners.
 */
export class ChannelDispatcher {
  private readonly logger = new Logger(ChannelDispatcher.name);
  private readonly buffer = new RingBuffer<ChannelMessageContext>();
  /** Bytes of each buffered message, in the buffer's order. */
  private readonly sizes = new RingBuffer<number>();
  private bufferedBytes = 0;
  private readonly parse: (raw: string) => unknown;
  private running = 0;
  private burst = 0;
  /** Process CPU time (ms) when the current run of buffered messages began; -1 when none runs. */
  private sliceStartCpuMs = -1;
  private scheduled = false;
  private pumping = false;
  private highWater = 0;
  private dropped = 0;
  private handled = 0;
  private failed = 0;
  private unreportedDrops = 0;
  private dropFlushScheduled = false;
  private readonly dropLog = new LogThrottle();
  private readonly failureLog = new LogThrottle();
  private idleWaiters: Array<() => void> = [];
  /** CONSUMER spans, one per run, linked to the publisher's trace when the message carries it (docs/tracing.md). */
  private readonly tracing: ProcessTracing;

  constructor(
    /** `Class@method` or the runtime listener's label. */
    readonly handler: string,
    /** For logs, e.g. `channel "hello"`. */
    readonly source: string,
    /** For events and metrics: the channel or pattern as named in the app, e.g. `hello`. */
    readonly name: string,
    private readonly listener: ChannelListener,
    private readonly options: ResolvedChannelListenerOptions,
    private readonly events: BrokerEvents,
  ) {
    this.parse = CHANNEL_PAYLOAD_PARSERS[options.parse];
    this.tracing = new ProcessTracing({ destination: name, relation: 'link' });
  }

  /** Takes one delivery; never throws, never waits. */
  push(context: ChannelMessageContext): void {
    if (this.buffer.length === 0 && this.running < this.options.concurrency) {
      this.run(context);
      return;
    }
    const size = Buffer.byteLength(context.raw);
    if (size > this.options.maxBufferBytes) {
      // It could never fit: under either policy the arriving message is the one lost.
      this.countDrop();
      return;
    }
    if (this.buffer.length >= this.options.bufferSize || this.bufferedBytes + size > this.options.maxBufferBytes) {
      if (this.options.overflow === 'drop-newest') {
        this.countDrop();
        return;
      }
      while (this.buffer.length >= this.options.bufferSize || this.bufferedBytes + size > this.options.maxBufferBytes) {
        this.take();
        this.countDrop();
      }
    }
    this.buffer.push(context);
    this.sizes.push(size);
    this.bufferedBytes += size;
    if (this.buffer.length > this.highWater) this.highWater = this.buffer.length;
    if (!this.scheduled && this.running < this.options.concurrency) {
      this.scheduled = true;
      queueMicrotask(this.pump);
    }
  }

  stats(): ChannelListenerStats {
    return {
      handler: this.handler,
      source: this.source,
      buffered: this.buffer.length,
      bufferedBytes: this.bufferedBytes,
      highWater: this.highWater,
      bufferSize: this.options.bufferSize,
      maxBufferBytes: this.options.maxBufferBytes,
      running: this.running,
      dropped: this.dropped,
      handled: this.handled,
      failed: this.failed,
    };
  }

  /** Resolves true once nothing is buffered or running, or false at `deadline` (epoch ms). */
  async whenIdle(deadline: number): Promise<boolean> {
    while (this.running > 0 || this.buffer.length > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, left))),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Forgets what is still buffered (at a shutdown deadline), logging how much. */
  discard(): void {
    const count = this.buffer.clear();
    this.sizes.clear();
    this.bufferedBytes = 0;
    if (count > 0) this.logger.warn(messages.channelShutdownDiscarded(this.handler, this.source, count));
  }

  private readonly pump = (): void => {
    this.scheduled = false;
    this.pumping = true;
    while (this.running < this.options.concurrency && this.buffer.length > 0) {
      if (this.sliceStartCpuMs < 0) this.sliceStartCpuMs = cpuMs();
      if (this.burst >= BROKER_DEFAULTS.channelDispatchBatch) {
        this.burst = 0;
        if (cpuMs() - this.sliceStartCpuMs >= BROKER_DEFAULTS.channelDispatchSliceMs) {
          // Let the event loop read the socket before running more.
          this.scheduled = true;
          setImmediate(this.resume);
          break;
        }
      }
      this.burst += 1;
      this.run(this.take());
    }
    this.pumping = false;
  };

  private readonly resume = (): void => {
    this.burst = 0;
    this.sliceStartCpuMs = -1;
    this.pump();
  };

  /** Removes the oldest buffered message. */
  private take(): ChannelMessageContext {
    this.bufferedBytes -= this.sizes.shift()!;
    return this.buffer.shift()!;
  }

  private run(context: ChannelMessageContext): void {
    this.running += 1;
    const started = performance.now();
    let payload: unknown;
    try {
      payload = this.parse(context.raw);
    } catch (error) {
      this.fail(started, error, true, context);
      return;
    }
    // Tracing: a span around the run, undefined when no tracer provider is registered.
    const traced = this.tracing.start(context, channelMessage, payload);
    let result: unknown;
    try {
      result = traced ? traced.run(this.listener, payload, context) : this.listener(payload, context);
    } catch (error) {
      this.fail(started, error, false, context);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.succeed(started, context),
        (error: unknown) => this.fail(started, error, false, context),
      );
    } else {
      this.succeed(started, context);
    }
  }

  private succeed(started: number, context: ChannelMessageContext): void {
    this.handled += 1;
    this.tracing.succeeded(context);
    // The hot path of a busy channel: no event object when nobody listens.
    if (this.events.listenerCount('handled') > 0) {
      this.events.emit('handled', { kind: 'channel', source: this.name, handler: this.handler, durationMs: performance.now() - started, context });
    }
    this.finish();
  }

  private fail(started: number, error: unknown, unparsable: boolean, context: ChannelMessageContext): void {
    this.failed += 1;
    this.tracing.failed(context, error);
    const text = errorText(error);
    this.events.emit('failed', {
      kind: 'channel', source: this.name, handler: this.handler, durationMs: performance.now() - started, error: text, exception: error, context,
    });
    const failures = this.failureLog.note();
    if (failures !== undefined) {
      const suppressed = failures - 1;
      this.logger.error(
        unparsable
          ? messages.channelUnparsable(this.handler, this.source, text, suppressed)
          : messages.channelHandlerFailed(this.handler, this.source, text, suppressed),
      );
    }
    this.finish();
  }

  private finish(): void {
    this.running -= 1;
    if (this.buffer.length > 0) {
      // A synchronous finish inside `pump` is picked up by its loop.
      if (!this.scheduled && !this.pumping) this.pump();
      return;
    }
    this.burst = 0;
    this.sliceStartCpuMs = -1;
    if (this.running === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private countDrop(): void {
    this.dropped += 1;
    this.unreportedDrops += 1;
    if (!this.dropFlushScheduled) {
      // One event and at most one log line per turn of the event loop, not per message.
      this.dropFlushScheduled = true;
      setImmediate(this.reportDrops);
    }
  }

  private readonly reportDrops = (): void => {
    this.dropFlushScheduled = false;
    const count = this.unreportedDrops;
    this.unreportedDrops = 0;
    this.events.emit('dropped', { kind: 'channel', source: this.name, count });
    const drops = this.dropLog.note(count);
    if (drops !== undefined) {
      this.logger.warn(messages.channelDropped(this.handler, this.source, drops, this.dropped, this.options.bufferSize, this.options.maxBufferBytes, this.options.overflow));
    }
  };
}

/**
 * A channel message as its span sees it: no id of its own (pub/sub has
 * none), a pattern listener's span named after its pattern, and the trace
 * context of a published object that carries one (`traceContext`).
 */
function channelMessage(context: ChannelMessageContext, payload: unknown): ProcessMessage {
  const carrier = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  return context.pattern === undefined ? { carrier } : { carrier, template: context.pattern, destination: context.channel };
}

/** CPU time (user + system) this process has used, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
}
