/**
 * The least-privilege ACL of docs/security.md for an app with
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
] as const;

/** What ioredis' Cluster client needs on top: the slot map and its ready check (docs/security.md). */
export const CLUSTER_ACL_RULES = ['+cluster|slots', '+cluster|info'] as const;
