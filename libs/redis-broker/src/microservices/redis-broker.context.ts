import { BaseRpcContext } from '@nestjs/microservices';
import { QueueMessageContext } from '../queue/queue-delivery.js';
import type { StreamMessageContext } from '../stream/stream-entry.js';

type RedisBrokerContextArgs = [QueueMessageContext | StreamMessageContext, string];

/**
 * What `@Ctx()` of `@nestjs/microservices` injects into a handler served by
 * `RedisBrokerServer`: the pattern and the library's own message context
 * (`QueueMessageContext` for queue-routed events and requests,
 * `StreamMessageContext` for stream-routed events), with its common fields
 * at hand.
 * @publicApi
 */
export class RedisBrokerContext extends BaseRpcContext<RedisBrokerContextArgs> {
  /** The library's message context: every field a `@QueueHandler` or `@StreamConsumer` sees. */
  getMessage(): QueueMessageContext | StreamMessageContext {
    return this.args[0];
  }

  /** The pattern the message was handled under (the queue or stream name). */
  getPattern(): string {
    return this.args[1];
  }

  /** The message id: the envelope's id on a queue (`ctx.id` of a `@QueueHandler`), the entry id on a stream. */
  get id(): string {
    return this.args[0].id;
  }

  /** 1 on the first run, 2 on the first retry (on a stream: the delivery count Redis keeps). */
  get attempt(): number {
    const message = this.args[0];
    return message instanceof QueueMessageContext ? message.attempt : message.deliveryCount;
  }

  /** The headers the producer gave; `{}` when none. */
  get headers(): Readonly<Record<string, string>> {
    return this.args[0].headers;
  }

  /** The queue it came from; undefined for a stream-routed event. */
  get queue(): string | undefined {
    const message = this.args[0];
    return message instanceof QueueMessageContext ? message.queue : undefined;
  }

  /** The stream it came from; undefined for a queue-routed message. */
  get stream(): string | undefined {
    const message = this.args[0];
    return message instanceof QueueMessageContext ? undefined : message.stream;
  }

  /** Aborted at the handler's `timeoutMs` or shutdown's deadline (see the library's contexts). */
  get signal(): AbortSignal {
    return this.args[0].signal;
  }
}
