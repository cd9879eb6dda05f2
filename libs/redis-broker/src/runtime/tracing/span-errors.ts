import type { Span } from '@opentelemetry/api';
import { errorText } from '../../core/error-text.js';
import { errorType, MessagingAttr } from './messaging-attributes.js';
import type { OtelApi } from './otel-api.js';

/** Records a failure on `span` (exception event, status ERROR, `error.type`); does not end it. */
export function recordFailure(api: OtelApi, span: Span, error: unknown): void {
  const message = errorText(error);
  if (error instanceof Error) span.recordException(error);
  else span.recordException({ name: errorType(error), message });
  span.setAttribute(MessagingAttr.errorType, errorType(error));
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
}
