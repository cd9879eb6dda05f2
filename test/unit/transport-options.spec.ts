import { describe, expect, it } from 'vitest';
import { InvalidBrokerOptionsError } from '../../libs/redis-broker/src/core/errors/invalid-broker-options.error.js';
import { decodeRpcError, rpcErrorText } from '../../libs/redis-broker/src/microservices/rpc-error.wire.js';
import {
  eventTransportOf, resolveClientOptions, resolveServerOptions,
} from '../../libs/redis-broker/src/microservices/transport-options.validation.js';

describe('microservices transport options', () => {
  it('routes events to queues unless told otherwise, pattern by pattern', () => {
    const { routing, group } = resolveServerOptions({ patterns: { 'audit.logged': 'stream' }, group: 'billing' });
    expect(eventTransportOf(routing, 'orders.created')).toBe('queue');
    expect(eventTransportOf(routing, 'audit.logged')).toBe('stream');
    expect(group).toBe('billing');
    const streams = resolveServerOptions({ events: 'stream', patterns: { 'jobs.run': 'queue' } }).routing;
    expect(eventTransportOf(streams, 'anything')).toBe('stream');
    expect(eventTransportOf(streams, 'jobs.run')).toBe('queue');
  });

  it('passes the module options through with their defaults', () => {
    const { broker } = resolveServerOptions({ keyPrefix: 'app:', shutdownTimeoutMs: 500, queueDefaults: { maxAttempts: 7 } });
    expect(broker.keyPrefix).toBe('app:');
    expect(broker.shutdownTimeoutMs).toBe(500);
    expect(broker.queueDefaults.maxAttempts).toBe(7);
    expect(resolveClientOptions({}).timeoutMs).toBe(30_000);
  });

  it.each([
    [{ events: 'pubsub' }, /"events": got "pubsub"/],
    [{ patterns: { 'a.b': 'list' } }, /"patterns\.a\.b": got "list"/],
    [{ patterns: { 'a.b': undefined } }, /"patterns\.a\.b": got undefined/],
    [{ patterns: { 'has space': 'queue' } }, /"patterns\.has space"/],
    [{ patterns: 'orders' }, /"patterns": got "orders"; accepted: an object/],
    [{ group: 'a{b}' }, /"group": got "a\{b\}"/],
    [{ producerOnly: true }, /Unknown nest-redis-broker option "producerOnly"/],
    [{ channelDefaults: {} }, /Unknown nest-redis-broker option "channelDefaults"/],
    [{ consumerTtlMs: 5, heartbeatIntervalMs: 10 }, /"consumerTtlMs"/],
  ])('refuses server options %j, naming the option', (options, message) => {
    expect(() => resolveServerOptions(options as never)).toThrow(InvalidBrokerOptionsError);
    expect(() => resolveServerOptions(options as never)).toThrow(message);
  });

  it.each([
    [{ timeoutMs: 0 }, /"timeoutMs": got 0/],
    [{ timeoutMs: 1.5 }, /"timeoutMs": got 1.5/],
    [{ group: 'g' }, /Unknown nest-redis-broker option "group"/],
    [{ keyPrefix: 'a b' }, /"keyPrefix"/],
  ])('refuses client options %j, naming the option', (options, message) => {
    expect(() => resolveClientOptions(options as never)).toThrow(message);
  });
});

describe('RPC errors on the reply wire', () => {
  it('carries an RpcException\'s object, an Error\'s message and a string back as the caller sees them', () => {
    expect(decodeRpcError(rpcErrorText({ status: 'error', message: 'no price' }))).toEqual({ status: 'error', message: 'no price' });
    expect(decodeRpcError(rpcErrorText(new Error('boom')))).toEqual({ status: 'error', message: 'boom' });
    expect(rpcErrorText('plain')).toBe('plain');
    expect(decodeRpcError('plain')).toBeUndefined();
    expect(decodeRpcError('{not json')).toBeUndefined();
    expect(decodeRpcError('[1,2]')).toBeUndefined();
  });

  it('falls back to the value\'s text for an object JSON cannot encode', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(rpcErrorText(cyclic)).toBe('[object Object]');
  });
});
