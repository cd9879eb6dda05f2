-- defer: a message over its key's rate limit goes back to wait, unrun.
-- KEYS[1] processing list of the consumer (absent in fast mode)
-- KEYS[2] waiting hash of the consumer (the message had not started)
-- KEYS[3] delayed zset: <16-char uid><message> -> due time (ms)
-- ARGV[1] the message
-- ARGV[2] sha1 of the message
-- ARGV[3] delay in ms (until its key's rate window has room)
-- ARGV[4] a 16-character unique id (keeps equal messages apart in the zset)
-- Returns 1.
-- Invariant: as retry.lua, the message leaves the processing list in the
-- same step it enters the delayed set; unlike a retry, no attempt is
-- counted: the handler never saw it.
--@include redis-time
local processing, waiting, delayed = KEYS[1], KEYS[2], KEYS[3]
local message, sha, delay, uid = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('LREM', processing, -1, message)
redis.call('HDEL', waiting, sha)
redis.call('ZADD', delayed, redisNowMs() + delay, uid .. message)
return 1
