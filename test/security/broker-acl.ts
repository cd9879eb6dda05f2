/**
 * The worker role of the least-privilege ACL in docs/security.md for an app with
 * `keyPrefix: 'app:'`, as `ACL SETUSER` arguments after the user name. Every
 * command the broker sends is listed, including those its Lua scripts run
 * (scripts execute with the caller's permissions).
 */
export const BROKER_ACL_RULES = [
  'on', '>s3cret-broker-pw', 'resetkeys', '~app:*', '~{app:*', 'resetchannels', '&app:*',
  // PSUBSCRIBE is allowed only for patterns listed literally: one per @OnChannel({ pattern }).
  '&app:user.*',
  '-@all',
  // Connection set-up by ioredis, EVALSHA/EVAL for the scripts, MULTI for the stats snapshot.
  '+hello', '+auth', '+ping', '+info', '+select', '+quit', '+client|id', '+client|setname', '+client|unblock',
  '+evalsha', '+eval', '+multi', '+exec',
  // List queues.
  '+lpush', '+rpush', '+llen', '+lrange', '+blmove', '+brpop', '+zcard', '+zrange', '+zrevrange', '+hget', '+hmget',
  // Inside the queue scripts.
  '+lmove', '+rpop', '+lpop', '+lrem', '+ltrim', '+exists', '+set', '+del', '+time', '+hset', '+hdel', '+hexists', '+hincrby',
  '+zadd', '+zrem', '+zscore', '+zrangebyscore', '+zremrangebyrank',
  // Streams (and inside their scripts).
  '+xadd', '+xgroup|create', '+xreadgroup', '+xack', '+xclaim', '+xautoclaim', '+xpending', '+xinfo|stream', '+xinfo|groups',
  '+xinfo|consumers', '+xlen', '+xrange', '+xrevrange', '+xdel',
  // Pub/sub (channels under the prefix only, by the & pattern above).
  '+publish', '+spublish', '+subscribe', '+psubscribe', '+ssubscribe', '+unsubscribe', '+punsubscribe', '+sunsubscribe',
  // The registry of queue and stream names (once per name and process).
  '+sadd',
  // Schedules (docs/schedules.md): delivery scripts' dedup sets, and SchedulerService.schedules().
  '+zremrangebyscore', '+pexpire', '+hgetall',
] as const;

/**
 * The operator role of the ACL in docs/security.md (same key prefix): what the
 * dashboard (in an app with `producerOnly: true`) and every command of the
 * CLI send, scripts included.
 */
export const OPERATOR_ACL_RULES = [
  'on', '>s3cret-operator-pw', 'resetkeys', '~app:*', '~{app:*', 'resetchannels', '&app:*', '-@all',
  '+hello', '+auth', '+ping', '+info', '+select', '+quit', '+client|setname', '+evalsha', '+eval', '+multi', '+exec',
  // The catalog: registry, a named key's type, live channels.
  '+smembers', '+sismember', '+type', '+exists',
  '+pubsub|channels', '+pubsub|shardchannels', '+pubsub|numsub', '+pubsub|shardnumsub', '+pubsub|numpat',
  // Counts.
  '+llen', '+zcard', '+zrange', '+xlen', '+xinfo|stream', '+xinfo|groups', '+xinfo|consumers',
  // Dead letters: list, show, requeue (and inside its scripts), purge.
  '+zrevrange', '+hget', '+hmget', '+hdel', '+zrem', '+lpush', '+del', '+xrange', '+xrevrange', '+xadd', '+xdel',
  // CLI enqueue (--delay: the enqueue script), append, publish, and their registry record.
  '+zadd', '+time', '+publish', '+spublish', '+sadd',
  // CLI tail.
  '+xread', '+subscribe', '+ssubscribe',
  // The limits of a queue or group (rateLimit, globalConcurrency), when its consumers have any;
  // the schedules (the dashboard's table and the CLI's schedules).
  '+hgetall', '+zcount',
] as const;

/** What ioredis' Cluster client needs on top: the slot map and its ready check (docs/security.md). */
export const CLUSTER_ACL_RULES = ['+cluster|slots', '+cluster|info'] as const;
