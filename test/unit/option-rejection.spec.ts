import { describe, expect, it } from 'vitest';
import { resolveDashboardOptions } from '../../libs/redis-broker/src/dashboard/dashboard.options.js';
import { InvalidBrokerOptionsError } from '../../libs/redis-broker/src/core/errors/invalid-broker-options.error.js';
import { resolveBrokerMetricsOptions } from '../../libs/redis-broker/src/observability/broker-metrics.options.js';
import {
  resolveChannelListenerOptions,
  resolveQueueHandlerOptions,
  resolveStreamConsumerOptions,
  resolveStreamTrim,
} from '../../libs/redis-broker/src/core/options/handler-options.validation.js';
import { resolveBrokerOptions } from '../../libs/redis-broker/src/core/options/module-options.validation.js';
import { resolveReplication } from '../../libs/redis-broker/src/core/options/replication-options.validation.js';
import { BROKER_DEFAULTS } from '../../libs/redis-broker/src/core/options/broker-defaults.js';

// Every option's rejection, one function call each (option-validation.spec.ts checks that a
// rejection fails the boot). Each error names the option's full path and shows the value.

/** The error `run` throws; fails the test when it throws none or another kind. */
function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidBrokerOptionsError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection, got none');
}

/** What the message says of an invalid value at `path`. */
const invalid = (path: string, shown: string) => `option "${path}": got ${shown};`;
const unknown = (path: string) => `Unknown nest-redis-broker option "${path}"`;
const HIDDEN = '"(value hidden: it may hold credentials)"';

const module = (options: object) => () => resolveBrokerOptions(options);

describe('module option rejection', () => {
  it.each([
    ['options', () => resolveBrokerOptions('x' as never), invalid('options', '"x"')],
    ['unknown', module({ retries: 3 }), unknown('retries')],
    ['keyPrefix', module({ keyPrefix: 'a b' }), invalid('keyPrefix', '"a b"')],
    ['keyPrefix type', module({ keyPrefix: 5 }), invalid('keyPrefix', '5')],
    ['producerOnly', module({ producerOnly: 'yes' }), invalid('producerOnly', '"yes"')],
    ['shutdownTimeoutMs', module({ shutdownTimeoutMs: 1.5 }), invalid('shutdownTimeoutMs', '1.5')],
    ['instanceId', module({ instanceId: 'has space' }), invalid('instanceId', '"has space"')],
    ['instanceId length', module({ instanceId: 'x'.repeat(129) }), invalid('instanceId', `"${'x'.repeat(129)}"`)],
    ['heartbeatIntervalMs', module({ heartbeatIntervalMs: 9 }), invalid('heartbeatIntervalMs', '9')],
    ['consumerTtlMs', module({ consumerTtlMs: 19 }), invalid('consumerTtlMs', '19')],
    ['consumerTtlMs vs heartbeat', module({ heartbeatIntervalMs: 1_000, consumerTtlMs: 1_000 }), invalid('consumerTtlMs', '1000')],
    ['delayedPollMs', module({ delayedPollMs: '50' }), invalid('delayedPollMs', '"50"')],
    ['deadLetterMaxEntries', module({ deadLetterMaxEntries: -1 }), invalid('deadLetterMaxEntries', '-1')],
    ['scheduleCheckMs', module({ scheduleCheckMs: -1 }), invalid('scheduleCheckMs', '-1')],
    ['collectBootGarbage', module({ collectBootGarbage: 1 }), invalid('collectBootGarbage', '1')],
    ['queueDefaults', module({ queueDefaults: [] }), invalid('queueDefaults', '[]')],
    ['queueDefaults.mode', module({ queueDefaults: { mode: 'turbo' } }), invalid('queueDefaults.mode', '"turbo"')],
    ['queueDefaults.timeoutMs', module({ queueDefaults: { timeoutMs: '5s' } }), invalid('queueDefaults.timeoutMs', '"5s"')],
    ['streamDefaults.startId', module({ streamDefaults: { startId: 'latest' } }), invalid('streamDefaults.startId', '"latest"')],
    ['channelDefaults.overflow', module({ channelDefaults: { overflow: 'block' } }), invalid('channelDefaults.overflow', '"block"')],
    ['streams', module({ streams: 7 }), invalid('streams', '7')],
    ['streams name', module({ streams: { 'a b': { maxLen: 1 } } }), 'Invalid stream name "a b"'],
    ['streams.<name>.maxLen', module({ streams: { events: { maxLen: 0 } } }), invalid('streams.events.maxLen', '0')],
    ['streams.<name>.maxAgeMs', module({ streams: { events: { maxAgeMs: -5 } } }), invalid('streams.events.maxAgeMs', '-5')],
    ['streams.<name> both', module({ streams: { events: { maxLen: 1, maxAgeMs: 1 } } }), invalid('streams.events', '{"maxLen":1,"maxAgeMs":1}')],
    ['streams.<name> unknown', module({ streams: { events: { maxlen: 1 } } }), unknown('streams.events.maxlen')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });

  it('accepts no options at all, with every default', () => {
    const resolved = resolveBrokerOptions(undefined);
    expect(resolved.connection).toEqual({ url: BROKER_DEFAULTS.url });
    expect(resolved.keyPrefix).toBe('');
    expect(resolved.queueDefaults.mode).toBe('reliable');
    expect(resolved.instanceId).toMatch(/^[\w.:@-]{1,128}$/);
  });
});

describe('connection option rejection', () => {
  const connection = (value: unknown) => module({ connection: value });
  it.each([
    ['connection', connection('redis://h'), invalid('connection', '"redis://h"')],
    ['unknown', connection({ host: 'h' }), unknown('connection.host')],
    ['url scheme', connection({ url: 'http://localhost' }), invalid('connection.url', '"http://localhost"')],
    ['url type', connection({ url: 6379 }), invalid('connection.url', '"6379"')],
    ['url spaces', connection({ url: 'redis://a b' }), invalid('connection.url', '"redis://a b"')],
    ['redis', connection({ redis: 'redis://:pw@h' }), invalid('connection.redis', HIDDEN)],
    ['redis.keyPrefix', connection({ redis: { keyPrefix: 'p:' } }), invalid('connection.redis.keyPrefix', '"p:"')],
    ['cluster', connection({ cluster: ['h:1'] }), invalid('connection.cluster', HIDDEN)],
    ['cluster with url', connection({ url: 'redis://h', cluster: { nodes: ['h:1'] } }), invalid('connection.cluster', '"(with connection.url)"')],
    ['cluster.nodes', connection({ cluster: { nodes: [] } }), invalid('connection.cluster.nodes', '[]')],
    ['cluster.nodes[i]', connection({ cluster: { nodes: ['h:1', 'h:notaport'] } }), invalid('connection.cluster.nodes[1]', '"h:notaport"')],
    ['cluster.options.keyPrefix', connection({ cluster: { nodes: ['h:1'], options: { keyPrefix: 'p:' } } }), invalid('connection.cluster.options.keyPrefix', '"p:"')],
    [
      'cluster.options.redisOptions.keyPrefix',
      connection({ cluster: { nodes: ['h:1'], options: { redisOptions: { keyPrefix: 'p:' } } } }),
      invalid('connection.cluster.options.redisOptions.keyPrefix', '"p:"'),
    ],
    ['sentinels', connection({ sentinels: [], name: 'm' }), invalid('connection.sentinels', '[]')],
    ['sentinels[i]', connection({ sentinels: ['h:1'], name: 'm' }), invalid('connection.sentinels[0]', '"h:1"')],
    ['sentinels[i] unknown', connection({ sentinels: [{ host: 'h', port: 1, tls: true }], name: 'm' }), unknown('connection.sentinels[0].tls')],
    ['sentinels[i].host', connection({ sentinels: [{ host: '', port: 1 }], name: 'm' }), invalid('connection.sentinels[0].host', '""')],
    ['sentinels[i].port', connection({ sentinels: [{ host: 'h', port: 70_000 }], name: 'm' }), invalid('connection.sentinels[0].port', '70000')],
    ['sentinels without port', connection({ sentinels: [{ host: 'h' }], name: 'm' }), invalid('connection.sentinels[0].port', 'null')],
    ['name without sentinels', connection({ url: 'redis://h', name: 'm' }), invalid('connection.name', '"m"')],
    ['sentinels without name', connection({ sentinels: [{ host: 'h', port: 1 }] }), invalid('connection.name', 'undefined')],
    ['sentinels with url', connection({ sentinels: [{ host: 'h', port: 1 }], name: 'm', url: 'redis://h' }), invalid('connection.sentinels', '"(with connection.url)"')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });

  it('never shows the password of a rejected URL or cluster node', () => {
    expect(rejection(connection({ url: 'http://app:Pa55w0rd@h:6379' }))).not.toContain('Pa55w0rd');
    expect(rejection(connection({ url: 'redis://app:Pa55w0rd@h:6379/ x' }))).not.toContain('Pa55w0rd');
    expect(rejection(connection({ cluster: { nodes: ['redis://app:Pa55w0rd@h:bad'] } }))).not.toContain('Pa55w0rd');
    expect(rejection(connection({ cluster: { nodes: 'redis://app:Pa55w0rd@h:1' } }))).not.toContain('Pa55w0rd');
  });
});

describe('queue handler option rejection', () => {
  const queue = (options: object) => () => resolveQueueHandlerOptions('Orders@handle', options, undefined);
  it.each([
    ['options', () => resolveQueueHandlerOptions('Orders@handle', 3 as never, undefined), invalid('Orders@handle', '3')],
    ['unknown', queue({ retries: 1 }), unknown('Orders@handle.retries')],
    ['mode', queue({ mode: 'turbo' }), invalid('Orders@handle.mode', '"turbo"')],
    ['concurrency 0', queue({ concurrency: 0 }), invalid('Orders@handle.concurrency', '0')],
    ['concurrency above 10000', queue({ concurrency: 10_001 }), invalid('Orders@handle.concurrency', '10001')],
    ['prefetch', queue({ prefetch: -1 }), invalid('Orders@handle.prefetch', '-1')],
    ['prefetch below concurrency', queue({ concurrency: 4, prefetch: 2 }), invalid('Orders@handle.prefetch', '2')],
    ['readAhead', queue({ readAhead: -1 }), invalid('Orders@handle.readAhead', '-1')],
    ['readAhead word', queue({ readAhead: 'max' }), invalid('Orders@handle.readAhead', '"max"')],
    ['maxAttempts', queue({ maxAttempts: 0 }), invalid('Orders@handle.maxAttempts', '0')],
    ['backoff', queue({ backoff: 'exponential' }), invalid('Orders@handle.backoff', '"exponential"')],
    ['backoff unknown', queue({ backoff: { factor: 2 } }), unknown('Orders@handle.backoff.factor')],
    ['backoff.type', queue({ backoff: { type: 'linear' } }), invalid('Orders@handle.backoff.type', '"linear"')],
    ['backoff.delayMs', queue({ backoff: { delayMs: -1 } }), invalid('Orders@handle.backoff.delayMs', '-1')],
    ['backoff.maxDelayMs below delayMs', queue({ backoff: { delayMs: 500, maxDelayMs: 100 } }), invalid('Orders@handle.backoff.maxDelayMs', '100')],
    ['backoff.jitter', queue({ backoff: { jitter: 1 } }), invalid('Orders@handle.backoff.jitter', '1')],
    ['parse', queue({ parse: 'fields' }), invalid('Orders@handle.parse', '"fields"')],
    ['maxMessageBytes', queue({ maxMessageBytes: 0 }), invalid('Orders@handle.maxMessageBytes', '0')],
    ['maxMessageBytes above 512 MiB', queue({ maxMessageBytes: 512 * 1024 * 1024 + 1 }), invalid('Orders@handle.maxMessageBytes', '536870913')],
    ['blockTimeoutMs', queue({ blockTimeoutMs: 9 }), invalid('Orders@handle.blockTimeoutMs', '9')],
    ['maxDeaths', queue({ maxDeaths: 1_001 }), invalid('Orders@handle.maxDeaths', '1001')],
    ['timeoutMs', queue({ timeoutMs: -1 }), invalid('Orders@handle.timeoutMs', '-1')],
    ['timeoutMs above the timer limit', queue({ timeoutMs: 2 ** 31 }), invalid('Orders@handle.timeoutMs', '2147483648')],
    ['NaN', queue({ maxAttempts: Number.NaN }), invalid('Orders@handle.maxAttempts', 'null')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });

  it('takes what it does not set from the module defaults, and raises maxDelayMs to an explicit delayMs', () => {
    const base = resolveQueueHandlerOptions('queueDefaults', { mode: 'fast', concurrency: 3 }, undefined);
    const resolved = resolveQueueHandlerOptions('H@h', { prefetch: 0, backoff: { delayMs: 120_000 } }, base);
    expect(resolved).toMatchObject({ mode: 'fast', concurrency: 3, prefetch: 0, maxAttempts: 3 });
    expect(resolved.backoff).toEqual({ type: 'exponential', delayMs: 120_000, maxDelayMs: 120_000, jitter: true });
  });

  it('reads ahead automatically unless told otherwise, and takes readAhead from the module defaults', () => {
    expect(resolveQueueHandlerOptions('H@h', {}, undefined).readAhead).toBe('auto');
    const base = resolveQueueHandlerOptions('queueDefaults', { readAhead: 0 }, undefined);
    expect(resolveQueueHandlerOptions('H@h', { concurrency: 8 }, base).readAhead).toBe(0);
    expect(resolveQueueHandlerOptions('H@h', { readAhead: 'auto' }, base).readAhead).toBe('auto');
  });

  it('accepts a prefetch of 0 or at least the concurrency', () => {
    expect(resolveQueueHandlerOptions('H@h', { concurrency: 4, prefetch: 0 }, undefined).prefetch).toBe(0);
    expect(resolveQueueHandlerOptions('H@h', { concurrency: 4, prefetch: 4 }, undefined).prefetch).toBe(4);
  });
});

describe('stream consumer option rejection', () => {
  const stream = (options: object) => () => resolveStreamConsumerOptions('Billing@on', options, undefined);
  it.each([
    ['unknown', stream({ maxAttempts: 3 }), unknown('Billing@on.maxAttempts')],
    ['startId', stream({ startId: 'latest' }), invalid('Billing@on.startId', '"latest"')],
    ['startId type', stream({ startId: 0 }), invalid('Billing@on.startId', '0')],
    ['concurrency', stream({ concurrency: 0 }), invalid('Billing@on.concurrency', '0')],
    ['prefetch below concurrency', stream({ concurrency: 3, prefetch: 1 }), invalid('Billing@on.prefetch', '1')],
    ['readAhead', stream({ readAhead: 1.5 }), invalid('Billing@on.readAhead', '1.5')],
    ['maxDeliveries', stream({ maxDeliveries: 0 }), invalid('Billing@on.maxDeliveries', '0')],
    ['backoff.type', stream({ backoff: { type: 'random' } }), invalid('Billing@on.backoff.type', '"random"')],
    ['parse', stream({ parse: 'json' }), invalid('Billing@on.parse', '"json"')],
    ['maxMessageBytes', stream({ maxMessageBytes: 0 }), invalid('Billing@on.maxMessageBytes', '0')],
    ['blockTimeoutMs', stream({ blockTimeoutMs: 600_001 }), invalid('Billing@on.blockTimeoutMs', '600001')],
    ['claimIdleMs', stream({ claimIdleMs: 5 }), invalid('Billing@on.claimIdleMs', '5')],
    ['timeoutMs', stream({ timeoutMs: 1.5 }), invalid('Billing@on.timeoutMs', '1.5')],
    ['reclaimIntervalMs', stream({ reclaimIntervalMs: 3_600_001 }), invalid('Billing@on.reclaimIntervalMs', '3600001')],
    ['idleConsumerTtlMs', stream({ idleConsumerTtlMs: 19 }), invalid('Billing@on.idleConsumerTtlMs', '19')],
    ['idleConsumerTtlMs vs blockTimeoutMs', stream({ blockTimeoutMs: 500, idleConsumerTtlMs: 500 }), invalid('Billing@on.idleConsumerTtlMs', '500')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });

  it.each(['0', '$', '1700000000000', '1700000000000-3'])('accepts the start id %j', (startId) => {
    expect(resolveStreamConsumerOptions('S@s', { startId }, undefined).startId).toBe(startId);
  });
});

describe('channel listener option rejection', () => {
  const channel = (options: object) => () => resolveChannelListenerOptions('News@on', options, undefined);
  it.each([
    ['unknown', channel({ pattern: 'a.*' }), unknown('News@on.pattern')],
    ['parse', channel({ parse: 'fields' }), invalid('News@on.parse', '"fields"')],
    ['bufferSize', channel({ bufferSize: -1 }), invalid('News@on.bufferSize', '-1')],
    ['maxBufferBytes', channel({ maxBufferBytes: 0 }), invalid('News@on.maxBufferBytes', '0')],
    ['overflow', channel({ overflow: 'block' }), invalid('News@on.overflow', '"block"')],
    ['concurrency', channel({ concurrency: 2.5 }), invalid('News@on.concurrency', '2.5')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });
});

describe('per-write option rejection', () => {
  it.each([
    ['replicas', () => resolveReplication('enqueue', { replicas: -1 }), invalid('enqueue.replicas', '-1')],
    ['replicas above 100', () => resolveReplication('append', { replicas: 101 }), invalid('append.replicas', '101')],
    ['replicasTimeoutMs', () => resolveReplication('enqueue', { replicas: 1, replicasTimeoutMs: 0 }), invalid('enqueue.replicasTimeoutMs', '0')],
    ['replicasTimeoutMs alone', () => resolveReplication('enqueue', { replicasTimeoutMs: 100 }), invalid('enqueue.replicasTimeoutMs', '100')],
    ['trim both', () => resolveStreamTrim('append', { maxLen: 1, maxAgeMs: 1 }), invalid('append', '{"maxLen":1,"maxAgeMs":1}')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });

  it('asks for no WAIT without replicas, and the default timeout with them', () => {
    expect(resolveReplication('enqueue', {})).toBeUndefined();
    expect(resolveReplication('enqueue', { replicas: 0 })).toBeUndefined();
    expect(resolveReplication('enqueue', { replicas: 2 })).toEqual({ replicas: 2, timeoutMs: BROKER_DEFAULTS.replicasTimeoutMs });
  });
});

describe('metrics and dashboard option rejection', () => {
  it.each([
    ['metrics unknown', () => resolveBrokerMetricsOptions({ queue: ['x'] } as never), unknown('metrics.queue')],
    ['metrics.prefix', () => resolveBrokerMetricsOptions({ prefix: '1bad' }), invalid('metrics.prefix', '"1bad"')],
    ['metrics.queues', () => resolveBrokerMetricsOptions({ queues: [''] }), invalid('metrics.queues', '[""]')],
    ['metrics.streams', () => resolveBrokerMetricsOptions({ streams: 'events' as never }), invalid('metrics.streams', '"events"')],
    ['metrics.durationBuckets', () => resolveBrokerMetricsOptions({ durationBuckets: [1, 1] }), invalid('metrics.durationBuckets', '[1,1]')],
    ['metrics.durationBuckets empty', () => resolveBrokerMetricsOptions({ durationBuckets: [] }), invalid('metrics.durationBuckets', '[]')],
    ['metrics.defaultMetrics', () => resolveBrokerMetricsOptions({ defaultMetrics: 'no' as never }), invalid('metrics.defaultMetrics', '"no"')],
    ['dashboard unknown', () => resolveDashboardOptions({ title: 'x' } as never), unknown('dashboard.title')],
    ['dashboard.path', () => resolveDashboardOptions({ path: '../admin' }), invalid('dashboard.path', '"../admin"')],
    ['dashboard.guards', () => resolveDashboardOptions({ guards: [{}] as never }), invalid('dashboard.guards', '[{}]')],
    ['dashboard.public', () => resolveDashboardOptions({ public: 'true' as never }), invalid('dashboard.public', '"true"')],
    ['dashboard.imports', () => resolveDashboardOptions({ imports: {} as never }), invalid('dashboard.imports', '{}')],
    ['dashboard.refreshIntervalMs', () => resolveDashboardOptions({ refreshIntervalMs: 249 }), invalid('dashboard.refreshIntervalMs', '249')],
  ])('rejects %s', (_name, run, expected) => {
    expect(rejection(run)).toContain(expected);
  });
});
