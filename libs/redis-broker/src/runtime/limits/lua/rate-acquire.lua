-- rate-acquire: counts up to `wanted` starts into a sliding-window rate limit.
-- KEYS[1] the window: ZSET member -> time of its start (ms, Redis clock); a
--         reservation's time lies `hold` ms ahead until rate-commit re-dates it
-- ARGV[1] max: most members in any window
-- ARGV[2] wanted: starts asked for (1 or more)
-- ARGV[3] perMs: the window's length in ms
-- ARGV[4] hold: members are dated now + hold (0: now, nothing to commit)
-- ARGV[5] a unique id; the members are <id>:1 ... <id>:<granted>
-- Returns {granted, waitMs}: granted > 0 and waitMs 0; or granted 0 and the
-- ms until the oldest dated start leaves the window (-1 when every member is
-- a reservation still ahead: its start time is not known yet).
-- Invariant: members dated after now - perMs, reservations included, are
-- never more than max; so no window of perMs ms on the Redis clock holds more
-- than max starts. A member is only ever re-dated later (stricter), never earlier.
--@include redis-time
local window = KEYS[1]
local max, wanted, perMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local hold, id = tonumber(ARGV[4]), ARGV[5]
local now = redisNowMs()
redis.call('ZREMRANGEBYSCORE', window, '-inf', now - perMs)
local free = max - redis.call('ZCARD', window)
if free <= 0 then
  local oldest = redis.call('ZRANGEBYSCORE', window, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
  if #oldest == 0 then return {0, -1} end
  return {0, math.max(1, tonumber(oldest[2]) + perMs - now)}
end
local granted = math.min(free, wanted)
for i = 1, granted do
  redis.call('ZADD', window, now + hold, id .. ':' .. i)
end
-- The key outlives its newest member's window, and no more.
local newest = redis.call('ZRANGE', window, -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', window, math.max(1, tonumber(newest[2]) + perMs - now))
return {granted, 0}
