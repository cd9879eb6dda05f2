-- lease-acquire: takes up to `wanted` of the `limit` run slots shared by all
-- processes (globalConcurrency), each as a lease that expires.
-- KEYS[1] the leases: ZSET member -> expiry (ms, Redis clock)
-- ARGV[1] limit: most leases at once
-- ARGV[2] wanted (1 or more)
-- ARGV[3] leaseMs: a lease expires this long after it is taken or renewed
-- ARGV[4] a unique id; the leases are <id>:1 ... <id>:<granted>
-- Returns {granted, waitMs}: granted > 0 and waitMs 0; or granted 0 and the
-- ms until the first lease expires (a release usually comes sooner).
-- Invariant: live leases (expiry after now) are never more than limit. An
-- expired lease is dropped here, so a process killed while running frees its
-- slots leaseMs after its last renewal at the latest.
--@include redis-time
local leases = KEYS[1]
local limit, wanted, leaseMs, id = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local now = redisNowMs()
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
local free = limit - redis.call('ZCARD', leases)
if free <= 0 then
  local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(first[2]) - now)}
end
local granted = math.min(free, wanted)
for i = 1, granted do
  redis.call('ZADD', leases, now + leaseMs, id .. ':' .. i)
end
redis.call('PEXPIRE', leases, leaseMs)
return {granted, 0}
