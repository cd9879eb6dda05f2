-- dead-letter: move a message that will not be retried to the dead-letter list.
-- KEYS[1] processing list of the consumer (absent in fast mode)
-- KEYS[2] waiting hash of the consumer (a message dead-lettered before it started may be in it)
-- KEYS[3] attempts hash
-- KEYS[4] deaths hash
-- KEYS[5] dead index zset: id -> time (ms)
-- KEYS[6] dead records hash: id -> JSON record
-- KEYS[7] dead messages hash: id -> original message
-- ARGV[1] the message
-- ARGV[2] sha1 of the message
-- ARGV[3] dead-letter id
-- ARGV[4] JSON record (reason, error, attempts, times)
-- ARGV[5] cap of the dead-letter list, 0 for none
-- Returns 1.
-- Invariant: removal from the processing list and insertion in the
-- dead-letter list are one step; the message is never in neither. It takes
-- the oldest equal copy, as acks do (the consumer's model of the list counts on it).
--@include redis-time
--@include dead-letter-record
local processing, waiting, attempts, deaths = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local deadIndex, deadRecords, deadMessages = KEYS[5], KEYS[6], KEYS[7]
local message, sha, id, record, cap = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
redis.call('LREM', processing, -1, message)
redis.call('HDEL', waiting, sha)
redis.call('HDEL', attempts, sha)
redis.call('HDEL', deaths, sha)
writeDeadLetter(deadIndex, deadRecords, deadMessages, id, redisNowMs(), record, message)
capDeadLetters(deadIndex, deadRecords, deadMessages, cap)
return 1
