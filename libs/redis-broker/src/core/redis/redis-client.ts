import type { Cluster, Redis } from 'ioredis';

/**
 * A standalone or cluster client; every broker connection is one of these
 * (`BrokerClient.redis` is the shared command connection).
 * @publicApi
 */
export type RedisClient = Redis | Cluster;

/**
 * What a connection is used for. Blocking commands never share a connection:
 * each consumer loop owns its `blocking` one, pub/sub owns `subscriber`.
 */
export type ConnectionRole = 'command' | 'blocking' | 'subscriber';
