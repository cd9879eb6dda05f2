import type { ParamData } from '@nestjs/common';
import { BrokerParamType } from './decorators/param.decorators.js';

/** Takes one handler argument from a message's `(payload, context)`. */
export type ParamExtractor = (payload: unknown, context: unknown) => unknown;

const wholePayload: ParamExtractor = (payload) => payload;
const messageContext: ParamExtractor = (_payload, context) => context;

/**
 * How `@Payload(path)` or `@Ctx()` takes its value: the payload, the value at
 * a dot path inside it (undefined where the path leaves objects), or the
 * context. Undefined for a parameter kind the broker does not define.
 */
export function brokerParamExtractor(type: unknown, data: ParamData | undefined): ParamExtractor | undefined {
  if (type === BrokerParamType.CONTEXT) return messageContext;
  if (type !== BrokerParamType.PAYLOAD) return undefined;
  if (typeof data !== 'string' || data === '') return wholePayload;
  const parts = data.split('.');
  return (payload) => {
    let value = payload;
    for (const part of parts) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[part];
    }
    return value;
  };
}
