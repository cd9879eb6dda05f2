-- include dead-letter-record: write one dead letter of a queue, and drop the
-- oldest past a cap. A queue's dead letters are three keys: an index zset
-- (id -> time in ms), a records hash (id -> JSON record) and a messages hash
-- (id -> the original message).
local function writeDeadLetter(index, records, messages, id, now, record, message)
  redis.call('ZADD', index, now, id)
  redis.call('HSET', records, id, record)
  redis.call('HSET', messages, id, message)
end

-- Dropping the oldest past the cap goes in chunks: unpack() is bounded by
-- Lua's stack (about 8,000 values), and a cap turned on over a large backlog
-- drops that many at once. Records and bodies go before their index entries,
-- so no record is ever left that the index does not reach.
local function capDeadLetters(index, records, messages, cap)
  if cap <= 0 then return end
  local excess = redis.call('ZCARD', index) - cap
  while excess > 0 do
    local oldest = redis.call('ZRANGE', index, 0, math.min(excess, 1000) - 1)
    redis.call('HDEL', records, unpack(oldest))
    redis.call('HDEL', messages, unpack(oldest))
    redis.call('ZREMRANGEBYRANK', index, 0, #oldest - 1)
    excess = excess - #oldest
  end
end
