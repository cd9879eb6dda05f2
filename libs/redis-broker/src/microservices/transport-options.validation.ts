import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { assertValidName } from '../core/keys.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import type { ResolvedBrokerOptions } from '../core/options/broker.options.js';
import { resolveBrokerOptions } from '../core/options/module-options.validation.js';
import { expectRecord, fail, int, oneOf, rejectUnknown } from '../core/options/option-checks.js';
import type { EventRouting, EventTransport, RedisBrokerClientOptions, RedisBrokerServerOptions } from './transport.options.js';

const TRANSPORTS: readonly EventTransport[] = ['queue', 'stream'];
const ROUTING_KEYS = ['events', 'patterns'] as const;
const SERVER_KEYS = [
  'connection', 'keyPrefix', 'shutdownTimeoutMs', 'instanceId', 'queueDefaults', 'heartbeatIntervalMs', 'consumerTtlMs',
  'delayedPollMs', 'deadLetterMaxEntries', 'streamDefaults', 'streams', 'collectBootGarbage', ...ROUTING_KEYS, 'group',
] as const;
const CLIENT_KEYS = ['connection', 'keyPrefix', 'timeoutMs', 'streams', ...ROUTING_KEYS] as const;
/** The longest delay `setTimeout` keeps (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
const NAME_RULE = '1 to 200 characters, no white space, control characters or braces';

/** Event routing with its default applied. */
export interface ResolvedEventRouting {
  events: EventTransport;
  patterns: Readonly<Record<string, EventTransport>>;
}

/** A server's options, validated, with every default applied. */
export interface ResolvedServerOptions {
  broker: ResolvedBrokerOptions;
  routing: ResolvedEventRouting;
  group: string | undefined;
}

/** A client proxy's options, validated, with every default applied. */
export interface ResolvedClientOptions {
  broker: ResolvedBrokerOptions;
  routing: ResolvedEventRouting;
  timeoutMs: number;
}

/** Where an event pattern lives. */
export function eventTransportOf(routing: ResolvedEventRouting, pattern: string): EventTransport {
  return routing.patterns[pattern] ?? routing.events;
}

/** Throws `InvalidBrokerOptionsError` naming the option and value. */
export function resolveServerOptions(raw: RedisBrokerServerOptions | undefined): ResolvedServerOptions {
  const options = raw ?? {};
  expectRecord('options', options);
  rejectUnknown('', options, SERVER_KEYS);
  const { events, patterns, group, ...moduleOptions } = options;
  if (group !== undefined) assertName('group', group);
  return { broker: resolveBrokerOptions(moduleOptions), routing: resolveRouting({ events, patterns }), group };
}

/** Throws `InvalidBrokerOptionsError` naming the option and value. */
export function resolveClientOptions(raw: RedisBrokerClientOptions | undefined): ResolvedClientOptions {
  const options = raw ?? {};
  expectRecord('options', options);
  rejectUnknown('', options, CLIENT_KEYS);
  const { events, patterns, timeoutMs, connection, keyPrefix, streams } = options;
  return {
    broker: resolveBrokerOptions({ connection, keyPrefix, streams }),
    routing: resolveRouting({ events, patterns }),
    timeoutMs: int('timeoutMs', timeoutMs, BROKER_DEFAULTS.requestTimeoutMs, 1, MAX_TIMER_MS),
  };
}

function resolveRouting(raw: EventRouting): ResolvedEventRouting {
  const events = oneOf('events', raw.events, 'queue', TRANSPORTS);
  const patterns: Record<string, EventTransport> = {};
  if (raw.patterns !== undefined) {
    expectRecord('patterns', raw.patterns);
    for (const [pattern, transport] of Object.entries(raw.patterns)) {
      assertName(`patterns.${pattern}`, pattern);
      if (transport === undefined) fail(`patterns.${pattern}`, transport, '"queue" or "stream"');
      patterns[pattern] = oneOf(`patterns.${pattern}`, transport, events, TRANSPORTS);
    }
  }
  return { events, patterns };
}

/** A queue, stream or group name, checked as an option: the error names the option. */
function assertName(option: string, name: unknown): asserts name is string {
  try {
    assertValidName(option, name);
  } catch (error) {
    if (error instanceof InvalidBrokerOptionsError) fail(option, name, NAME_RULE);
    throw error;
  }
}
