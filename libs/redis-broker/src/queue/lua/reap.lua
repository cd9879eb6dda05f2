-- reap: a consumer stopped heart-beating; give its messages back.
-- KEYS[1] queue list
-- KEYS[2] processing list of the dead consumer
-- KEYS[3] waiting hash of the dead consumer: sha1 -> fetch time of what it had not started
-- KEYS[4] consumers zset
-- KEYS[5] deaths hash
-- KEYS[6] attempts hash
-- KEYS[7] dead index zset
-- KEYS[8] dead records hash
-- KEYS[9] dead messages hash
-- KEYS[10] alive marker of the dead consumer (deleted: its acks no longer cut by count)
-- ARGV[1] consumer id
-- ARGV[2] deaths after which a message is quarantined as poison
-- ARGV[3] queue name (for the dead-letter record)
-- ARGV[4] cap of the dead-letter list, 0 for none
-- Returns {returned, quarantined}, or {-1, 0} when the consumer is alive
-- again or was reaped by another process meanwhile.
-- Invariants: only messages the consumer had started (not in its waiting
-- hash) count a death, so messages merely prefetched are never blamed; returned messages go to the
-- consuming end, oldest first, so they run next in their original order.
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not score or tonumber(score) > now then return {-1, 0} end
local maxDeaths = tonumber(ARGV[2])
local returned, quarantined = 0, 0
while true do
  local message = redis.call('LPOP', KEYS[2])
  if not message then break end
  local sha = redis.sha1hex(message)
  local deaths = 0
  if redis.call('HEXISTS', KEYS[3], sha) == 0 then
    deaths = redis.call('HINCRBY', KEYS[5], sha, 1)
  end
  if deaths >= maxDeaths then
    local id = string.sub(redis.sha1hex(sha .. ARGV[1] .. now .. quarantined), 1, 20)
    local record = cjson.encode({
      id = id, queue = ARGV[3], reason = 'poison',
      error = 'its consumer died ' .. deaths .. ' times while running it (last: ' .. ARGV[1] .. ')',
      attempts = tonumber(redis.call('HGET', KEYS[6], sha) or '0') + 1,
      consumer = ARGV[1], failedAt = now,
    })
    redis.call('ZADD', KEYS[7], now, id)
    redis.call('HSET', KEYS[8], id, record)
    redis.call('HSET', KEYS[9], id, message)
    redis.call('HDEL', KEYS[5], sha)
    redis.call('HDEL', KEYS[6], sha)
    quarantined = quarantined + 1
  else
    redis.call('RPUSH', KEYS[1], message)
    returned = returned + 1
  end
end
redis.call('DEL', KEYS[3], KEYS[10])
redis.call('ZREM', KEYS[4], ARGV[1])
-- Dropping the oldest past the cap goes in chunks: unpack() is bounded by
-- Lua's stack (about 8,000 values), and a cap turned on over a large backlog
-- drops that many at once. Records and bodies go before their index entries,
-- so no record is ever left that the index does not reach.
local cap = tonumber(ARGV[4])
if quarantined > 0 and cap > 0 then
  local excess = redis.call('ZCARD', KEYS[7]) - cap
  while excess > 0 do
    local oldest = redis.call('ZRANGE', KEYS[7], 0, math.min(excess, 1000) - 1)
    redis.call('HDEL', KEYS[8], unpack(oldest))
    redis.call('HDEL', KEYS[9], unpack(oldest))
    redis.call('ZREMRANGEBYRANK', KEYS[7], 0, #oldest - 1)
    excess = excess - #oldest
  end
end
return {returned, quarantined}
