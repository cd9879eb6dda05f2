-- schedule-stream-append: deliver one claimed tick to a stream, once.
-- KEYS[1] stream
-- KEYS[2] that stream's tick zset of this schedule: tick ms -> when appended (ms)
-- ARGV[1] tick (ms)
-- ARGV[2] dedup window (ms): ticks appended longer ago are forgotten
-- ARGV[3..] the entry's fields and values
-- Returns 1 when appended, 0 when this tick was appended already (within the window).
-- Invariant: a tick delivered again by another poller (outbox retry) is dropped here.
--@include redis-time
local stream, ticks = KEYS[1], KEYS[2]
local now = redisNowMs()
redis.call('ZREMRANGEBYSCORE', ticks, '-inf', now - tonumber(ARGV[2]))
if redis.call('ZADD', ticks, 'NX', now, ARGV[1]) == 0 then return 0 end
redis.call('PEXPIRE', ticks, ARGV[2])
redis.call('XADD', stream, '*', unpack(ARGV, 3))
return 1
