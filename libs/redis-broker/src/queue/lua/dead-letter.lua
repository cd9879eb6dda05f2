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
redis.call('LREM', KEYS[1], -1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[5], now, ARGV[3])
redis.call('HSET', KEYS[6], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[7], ARGV[3], ARGV[1])
-- Dropping the oldest past the cap goes in chunks: unpack() is bounded by
-- Lua's stack (about 8,000 values), and a cap turned on over a large backlog
-- drops that many at once. Records and bodies go before their index entries,
-- so no record is ever left that the index does not reach.
local cap = tonumber(ARGV[5])
if cap > 0 then
  local excess = redis.call('ZCARD', KEYS[5]) - cap
  while excess > 0 do
    local oldest = redis.call('ZRANGE', KEYS[5], 0, math.min(excess, 1000) - 1)
    redis.call('HDEL', KEYS[6], unpack(oldest))
    redis.call('HDEL', KEYS[7], unpack(oldest))
    redis.call('ZREMRANGEBYRANK', KEYS[5], 0, #oldest - 1)
    excess = excess - #oldest
  end
end
return 1
