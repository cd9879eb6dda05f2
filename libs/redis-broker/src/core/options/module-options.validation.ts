import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { assertValidName } from '../keys.js';
import { redactUrl } from '../error-text.js';
import { BROKER_DEFAULTS } from './broker-defaults.js';
import type { RedisBrokerModuleOptions, RedisConnectionOptions, ResolvedBrokerOptions } from './broker.options.js';
import type { StreamTrimOptions } from './handler.options.js';
import { resolveChannelListenerOptions, resolveQueueHandlerOptions, resolveStreamConsumerOptions, resolveStreamTrim } from './handler-options.validation.js';
import { bool, expectRecord, fail, HIDDEN, int, rejectUnknown } from './option-checks.js';

const MODULE_KEYS = [
  'connection', 'keyPrefix', 'producerOnly', 'shutdownTimeoutMs', 'instanceId', 'queueDefaults',
  'heartbeatIntervalMs', 'consumerTtlMs', 'delayedPollMs', 'deadLetterMaxEntries', 'scheduleCheckMs', 'streamDefaults', 'streams',
  'channelDefaults', 'collectBootGarbage',
] as const;
const CONNECTION_KEYS = ['url', 'redis', 'cluster', 'sentinels', 'name'] as const;

/** Validates module options and applies defaults; throws `InvalidBrokerOptionsError` naming the option. */
export function resolveBrokerOptions(raw: RedisBrokerModuleOptions | undefined): ResolvedBrokerOptions {
  const options = raw ?? {};
  expectRecord('options', options);
  rejectUnknown('', options, MODULE_KEYS);
  const connection = resolveConnection(options.connection);
  const keyPrefix = options.keyPrefix ?? BROKER_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || /[{}\s]/.test(keyPrefix) || keyPrefix.length > 64) {
    fail('keyPrefix', keyPrefix, 'a string of at most 64 characters without braces or white space');
  }
  const producerOnly = bool('producerOnly', options.producerOnly, BROKER_DEFAULTS.producerOnly);
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  if (typeof instanceId !== 'string' || !/^[\w.:@-]{1,128}$/.test(instanceId)) {
    fail('instanceId', instanceId, 'letters, digits and . : @ _ - (1 to 128 characters)');
  }
  const heartbeatIntervalMs = int('heartbeatIntervalMs', options.heartbeatIntervalMs, BROKER_DEFAULTS.heartbeatIntervalMs, 10);
  const consumerTtlMs = int('consumerTtlMs', options.consumerTtlMs, BROKER_DEFAULTS.consumerTtlMs, 20);
  if (consumerTtlMs <= heartbeatIntervalMs) {
    fail('consumerTtlMs', consumerTtlMs, `a number of ms greater than heartbeatIntervalMs (${heartbeatIntervalMs})`);
  }
  rejectBatchDefaults(options);
  return {
    connection,
    keyPrefix,
    producerOnly,
    shutdownTimeoutMs: int('shutdownTimeoutMs', options.shutdownTimeoutMs, BROKER_DEFAULTS.shutdownTimeoutMs, 0),
    instanceId,
    queueDefaults: resolveQueueHandlerOptions('queueDefaults', options.queueDefaults, undefined),
    channelDefaults: resolveChannelListenerOptions('channelDefaults', options.channelDefaults, undefined),
    heartbeatIntervalMs,
    consumerTtlMs,
    delayedPollMs: int('delayedPollMs', options.delayedPollMs, BROKER_DEFAULTS.delayedPollMs, 10),
    deadLetterMaxEntries: int('deadLetterMaxEntries', options.deadLetterMaxEntries, BROKER_DEFAULTS.deadLetterMaxEntries, 0),
    scheduleCheckMs: int('scheduleCheckMs', options.scheduleCheckMs, BROKER_DEFAULTS.schedule.idleCheckMs, 0),
    collectBootGarbage: bool('collectBootGarbage', options.collectBootGarbage, BROKER_DEFAULTS.collectBootGarbage),
    streamDefaults: resolveStreamConsumerOptions('streamDefaults', options.streamDefaults, undefined),
    streams: resolveStreamTrims(options.streams),
  };
}

function resolveStreamTrims(raw: Record<string, StreamTrimOptions> | undefined): Record<string, StreamTrimOptions> {
  const streams = raw ?? {};
  expectRecord('streams', streams);
  const out: Record<string, StreamTrimOptions> = {};
  for (const [name, trim] of Object.entries(streams)) {
    assertValidName('stream', name);
    out[name] = resolveStreamTrim(`streams.${name}`, trim);
  }
  return out;
}

function resolveConnection(raw: RedisConnectionOptions | undefined): RedisConnectionOptions {
  const connection = raw ?? {};
  expectRecord('connection', connection);
  rejectUnknown('connection.', connection, CONNECTION_KEYS);
  // ioredis parses a URL with WHATWG `URL`, whose error would carry the whole
  // URL, password included, in its `input` property: an unparsable one is
  // refused here, redacted.
  if (connection.url !== undefined) {
    if (typeof connection.url !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(connection.url) || !URL.canParse(connection.url)) {
      fail('connection.url', redactUrl(String(connection.url)), 'a redis:// or rediss:// URL (percent-encode @ / ? # in a password)');
    }
  }
  // Connection values may hold credentials: a wrong one is described, never echoed.
  if (connection.redis !== undefined) expectRecord('connection.redis', connection.redis, HIDDEN);
  if (connection.cluster !== undefined) {
    expectRecord('connection.cluster', connection.cluster, HIDDEN);
    if (connection.url !== undefined) {
      fail('connection.cluster', '(with connection.url)', 'either connection.url or connection.cluster, not both');
    }
    const nodes: unknown = connection.cluster.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      fail('connection.cluster.nodes', typeof nodes === 'string' ? redactUrl(nodes) : nodes, 'a non-empty array of { host, port } or "host:port"');
    }
    nodes.forEach((node: unknown, i) => {
      // ioredis reads a string node as a URL, "redis://" assumed.
      if (typeof node === 'string' && !URL.canParse(/^[a-z][a-z0-9+.-]*:\/\//i.test(node) ? node : `redis://${node}`)) {
        fail(`connection.cluster.nodes[${i}]`, redactUrl(node), '"host:port" or a redis:// URL (percent-encode @ / ? # in a password)');
      }
    });
  }
  resolveSentinels(connection);
  // ioredis' own keyPrefix would sit outside the broker's hash tags (and
  // could split a queue's keys over slots: CROSSSLOT on Cluster).
  for (const [path, value] of [
    ['connection.redis.keyPrefix', connection.redis?.keyPrefix],
    ['connection.cluster.options.keyPrefix', connection.cluster?.options?.keyPrefix],
    ['connection.cluster.options.redisOptions.keyPrefix', connection.cluster?.options?.redisOptions?.keyPrefix],
  ] as const) {
    if (value !== undefined) fail(path, value, 'no value: set the module option keyPrefix instead, which keeps every queue in one Cluster slot');
  }
  if (connection.url === undefined && connection.redis === undefined && connection.cluster === undefined && connection.sentinels === undefined) {
    return { url: BROKER_DEFAULTS.url };
  }
  return connection;
}

function resolveSentinels(connection: RedisConnectionOptions): void {
  const { sentinels, name } = connection;
  if (sentinels === undefined) {
    if (name !== undefined) fail('connection.name', name, 'a master name only together with connection.sentinels');
    return;
  }
  if (!Array.isArray(sentinels) || sentinels.length === 0) fail('connection.sentinels', sentinels, 'a non-empty array of { host, port }');
  sentinels.forEach((sentinel: unknown, i) => {
    const path = `connection.sentinels[${i}]`;
    expectRecord(path, sentinel);
    const { host, port } = sentinel as Record<string, unknown>;
    rejectUnknown(`${path}.`, sentinel as object, ['host', 'port']);
    if (host !== undefined && (typeof host !== 'string' || host === '')) fail(`${path}.host`, host, 'a host name or address');
    int(`${path}.port`, port ?? null, 0, 1, 65_535);
  });
  if (typeof name !== 'string' || !/^[\w.:-]{1,128}$/.test(name)) {
    fail('connection.name', name, 'the master name the sentinels monitor (letters, digits and . : _ -), required with connection.sentinels');
  }
  for (const other of ['url', 'cluster'] as const) {
    if (connection[other] !== undefined) fail('connection.sentinels', `(with connection.${other})`, `either connection.sentinels or connection.${other}, not both`);
  }
}

/** A batch changes a handler's signature: it is set on the handler, never for every handler. */
function rejectBatchDefaults(options: { queueDefaults?: { batch?: unknown }; streamDefaults?: { batch?: unknown } }): void {
  for (const name of ['queueDefaults', 'streamDefaults'] as const) {
    const batch = options[name]?.batch;
    if (batch !== undefined) fail(`${name}.batch`, batch, 'nothing: set batch on the handler (@QueueHandler / @StreamConsumer) itself');
  }
}
