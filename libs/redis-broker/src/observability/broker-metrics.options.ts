import type { Registry } from 'prom-client';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { messages } from '../core/messages.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';

/**
 * Options of `RedisBrokerMetricsModule.forRoot()`.
 * @publicApi
 */
export interface BrokerMetricsOptions {
  /** Registry the broker's metrics are registered on. Default: a registry of its own (`BrokerMetrics.registry`). */
  registry?: Registry;
  /** Also collect prom-client's default Node process metrics on that registry. Default true. */
  defaultMetrics?: boolean;
  /** Prefix of every broker metric name. Default `nrb_`. */
  prefix?: string;
  /**
   * List queues whose depth is reported besides those with a handler in this
   * app, e.g. the queues a producer-only API fills. Default none.
   */
  queues?: string[];
  /** Streams whose length and group pending/lag are reported besides those consumed in this app. Default none. */
  streams?: string[];
  /** Upper bounds of the handler duration histogram, in seconds. */
  durationBuckets?: number[];
}

/** Metrics options with every default applied. */
export interface ResolvedBrokerMetricsOptions {
  registry: Registry | undefined;
  defaultMetrics: boolean;
  prefix: string;
  queues: string[];
  streams: string[];
  durationBuckets: number[];
}

const KEYS = ['registry', 'defaultMetrics', 'prefix', 'queues', 'streams', 'durationBuckets'];

/** Validates metrics options and applies defaults; throws `InvalidBrokerOptionsError` naming the option. */
export function resolveBrokerMetricsOptions(raw: BrokerMetricsOptions | undefined): ResolvedBrokerMetricsOptions {
  const options = raw ?? {};
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new InvalidBrokerOptionsError(messages.unknownOption(`metrics.${key}`, KEYS));
  }
  const defaults = BROKER_DEFAULTS.observability;
  const prefix = options.prefix ?? defaults.metricPrefix;
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    fail('metrics.prefix', prefix, 'letters, digits, _ and : (not starting with a digit)');
  }
  const queues = options.queues ?? [];
  if (!Array.isArray(queues) || !queues.every((q) => typeof q === 'string' && q.length > 0)) {
    fail('metrics.queues', queues, 'an array of queue names');
  }
  const streams = options.streams ?? [];
  if (!Array.isArray(streams) || !streams.every((q) => typeof q === 'string' && q.length > 0)) {
    fail('metrics.streams', streams, 'an array of stream names');
  }
  const durationBuckets = options.durationBuckets ?? [...defaults.durationBucketsSeconds];
  if (!Array.isArray(durationBuckets) || durationBuckets.length === 0 || !durationBuckets.every((b, i) => typeof b === 'number' && b > 0 && (i === 0 || b > durationBuckets[i - 1]))) {
    fail('metrics.durationBuckets', durationBuckets, 'a non-empty, strictly increasing array of positive seconds');
  }
  const defaultMetrics = options.defaultMetrics ?? true;
  if (typeof defaultMetrics !== 'boolean') fail('metrics.defaultMetrics', defaultMetrics, 'true or false');
  return { registry: options.registry, defaultMetrics, prefix, queues: [...new Set(queues)], streams: [...new Set(streams)], durationBuckets };
}

function fail(path: string, value: unknown, accepted: string): never {
  throw new InvalidBrokerOptionsError(messages.invalidOption(path, value, accepted));
}
