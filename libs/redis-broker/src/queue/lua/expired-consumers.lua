-- expired-consumers: the consumers whose heartbeat deadline has passed.
-- KEYS[1] consumers zset: consumer id -> deadline (ms)
-- ARGV[1] most ids to return
-- Returns an array of consumer ids.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
