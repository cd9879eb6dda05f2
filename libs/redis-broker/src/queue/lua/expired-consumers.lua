-- expired-consumers: the consumers whose heartbeat deadline has passed.
-- KEYS[1] consumers zset: consumer id -> deadline (ms)
-- ARGV[1] most ids to return
-- Returns an array of consumer ids.
--@include redis-time
local consumers = KEYS[1]
return redis.call('ZRANGEBYSCORE', consumers, '-inf', redisNowMs(), 'LIMIT', 0, tonumber(ARGV[1]))
