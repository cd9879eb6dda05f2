-- schedule-stream-append: deliver one claimed tick to a stream, once.
-- KEYS[1] stream
-- KEYS[2] that stream's tick zset of this schedule: tick ms -> when appended (ms)
-- ARGV[1] tick (ms)
-- ARGV[2] dedup window (ms): ticks appended longer ago are forgotten
-- ARGV[3..] the entry's fields and values
-- Returns 1 when appended, 0 when this tick was appended already (within the window).
-- Invariant: a tick delivered again by another poller (outbox retry) is dropped here;
-- a tick is remembered only once written.
--@include redis-time
local stream, ticks = KEYS[1], KEYS[2]
local now = redisNowMs()
redis.call('ZREMRANGEBYSCORE', ticks, '-inf', now - tonumber(ARGV[2]))
if redis.call('ZSCORE', ticks, ARGV[1]) then return 0 end
-- Written before the tick is remembered: a write that fails (WRONGTYPE) errors out
-- here, and a script is not rolled back, so the tick must not be marked as delivered yet.
redis.call('XADD', stream, '*', unpack(ARGV, 3))
redis.call('ZADD', ticks, now, ARGV[1])
redis.call('PEXPIRE', ticks, ARGV[2])
return 1
