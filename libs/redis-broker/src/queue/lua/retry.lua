-- retry: a handler failed and attempts are left; schedule the message again.
-- KEYS[1] processing list of the consumer (absent in fast mode)
-- KEYS[2] attempts hash
-- KEYS[3] delayed zset: <16-char uid><message> -> due time (ms)
-- ARGV[1] the message
-- ARGV[2] sha1 of the message
-- ARGV[3] delay in ms
-- ARGV[4] a 16-character unique id (keeps equal messages apart in the zset)
-- Returns the failed attempts counted so far.
-- Invariant: the message leaves the processing list in the same step it
-- enters the delayed set, so it is always in exactly one of them. It takes
-- the oldest equal copy, as acks do (the consumer's model of the list counts
-- on it).
redis.call('LREM', KEYS[1], -1, ARGV[1])
local attempts = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[4] .. ARGV[1])
return attempts
