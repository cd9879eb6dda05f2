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
--@include redis-time
local processing, attempts, delayed = KEYS[1], KEYS[2], KEYS[3]
local message, sha, delay, uid = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('LREM', processing, -1, message)
local failed = redis.call('HINCRBY', attempts, sha, 1)
redis.call('ZADD', delayed, redisNowMs() + delay, uid .. message)
return failed
