-- schedule-queue-push: deliver one claimed tick to a list queue, once.
-- KEYS[1] queue list
-- KEYS[2] that queue's tick zset of this schedule: tick ms -> when pushed (ms)
-- ARGV[1] tick (ms)
-- ARGV[2] dedup window (ms): ticks pushed longer ago are forgotten
-- ARGV[3] the message (an envelope whose id is derived from schedule id and tick)
-- Returns 1 when pushed, 0 when this tick was pushed already (within the window).
-- Invariant: a tick delivered again by another poller (outbox retry) is dropped here;
-- a tick is remembered only once written.
--@include redis-time
local queue, ticks = KEYS[1], KEYS[2]
local now = redisNowMs()
redis.call('ZREMRANGEBYSCORE', ticks, '-inf', now - tonumber(ARGV[2]))
if redis.call('ZSCORE', ticks, ARGV[1]) then return 0 end
-- Written before the tick is remembered: a write that fails (WRONGTYPE) errors out
-- here, and a script is not rolled back, so the tick must not be marked as delivered yet.
redis.call('LPUSH', queue, ARGV[3])
redis.call('ZADD', ticks, now, ARGV[1])
redis.call('PEXPIRE', ticks, ARGV[2])
return 1
