#!lua flags=allow-oom
-- heartbeat: a consumer says it is alive until now + ttl (Redis clock, so
-- hosts with skewed clocks agree).
-- KEYS[1] consumers zset: consumer id -> deadline (ms)
-- ARGV[1] consumer id
-- ARGV[2] ttl in ms
-- Returns the Redis time in ms.
-- Invariant: allowed when Redis is out of memory (the shebang's allow-oom,
-- Redis 7): at maxmemory with noeviction a plain script is refused at its
-- ZADD while fetches (RPOP first) and acks (deletes only) still run, so a
-- consumer still working would look dead, and be reaped once memory frees.
-- Rewriting the deadline of a consumer already in the set grows nothing.
--@include redis-time
local consumers = KEYS[1]
local consumer, ttl = ARGV[1], tonumber(ARGV[2])
local now = redisNowMs()
redis.call('ZADD', consumers, now + ttl, consumer)
return now
