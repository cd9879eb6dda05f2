import type { Attributes } from '@opentelemetry/api';

/**
 * Attribute names of the OpenTelemetry messaging semantic conventions
 * (`@opentelemetry/semantic-conventions` 1.45, still "development"), written
 * out: that package is not a dependency. See docs/tracing.md.
 */
export const MessagingAttr = {
  /** Deprecated in favour of `messaging.system.name`, still what most backends group by: both are written. */
  system: 'messaging.system',
  systemName: 'messaging.system.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destinationName: 'messaging.destination.name',
  destinationTemplate: 'messaging.destination.template',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  clientId: 'messaging.client.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  /**
   * System-specific attributes go in the system's namespace. `redis` is not
   * one of the conventions' well-known messaging systems (custom values are
   * allowed), so this library names its own under `messaging.redis.`.
   */
  deliveryAttempt: 'messaging.redis.message.delivery_attempt',
  settlement: 'messaging.redis.settlement',
  retryDelayMs: 'messaging.redis.retry.delay_ms',
  deadLetterReason: 'messaging.redis.dead_letter.reason',
} as const;

/** `messaging.system` (and `.name`): a custom value, see `MessagingAttr.deliveryAttempt`. */
export const MESSAGING_SYSTEM = 'redis';

/** The attributes every span of this library carries. */
export function systemAttributes(operation: 'send' | 'process', destination: string): Attributes {
  return {
    [MessagingAttr.system]: MESSAGING_SYSTEM,
    [MessagingAttr.systemName]: MESSAGING_SYSTEM,
    [MessagingAttr.operationType]: operation,
    [MessagingAttr.operationName]: operation,
    [MessagingAttr.destinationName]: destination,
  };
}

/** `error.type`: the error's class name (`TimeoutError` for a `timeoutMs` expiry), else `_OTHER` as the conventions ask. */
export function errorType(error: unknown): string {
  if (error instanceof Error || error instanceof DOMException) return error.name;
  return '_OTHER';
}
