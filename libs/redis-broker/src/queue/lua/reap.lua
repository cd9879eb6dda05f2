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
--@include redis-time
--@include dead-letter-record
local queue, processing, waiting, consumers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local deaths, attempts = KEYS[5], KEYS[6]
local deadIndex, deadRecords, deadMessages, alive = KEYS[7], KEYS[8], KEYS[9], KEYS[10]

-- The id a worker gives the message (ctx.id, a dead letter's messageId): its
-- envelope's id when it is a version-1 envelope as core/envelope.ts reads one
-- (marker 1, non-empty string id, numeric t, a p, h absent or strings only,
-- no other key), else the sha1 of its bytes, as for any plain message.
local ENVELOPE_KEYS = { __nrb = true, id = true, t = true, h = true, p = true }
local function messageIdOf(message, sha)
  if string.byte(message, 1) ~= 123 or not string.find(message, '"__nrb"', 1, true) then return sha end
  local ok, decoded = pcall(cjson.decode, message)
  if not ok or type(decoded) ~= 'table' or decoded.__nrb ~= 1 then return sha end
  if type(decoded.id) ~= 'string' or decoded.id == '' or type(decoded.t) ~= 'number' or decoded.p == nil then return sha end
  for key in pairs(decoded) do
    if not ENVELOPE_KEYS[key] then return sha end
  end
  if decoded.h ~= nil then
    if type(decoded.h) ~= 'table' then return sha end
    for name, value in pairs(decoded.h) do
      if type(name) ~= 'string' or type(value) ~= 'string' then return sha end
    end
  end
  return decoded.id
end
local consumer, maxDeaths, queueName, cap = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local score = redis.call('ZSCORE', consumers, consumer)
local now = redisNowMs()
if not score or tonumber(score) > now then return {-1, 0} end
local returned, quarantined = 0, 0
while true do
  local message = redis.call('LPOP', processing)
  if not message then break end
  local sha = redis.sha1hex(message)
  local died = 0
  if redis.call('HEXISTS', waiting, sha) == 0 then
    died = redis.call('HINCRBY', deaths, sha, 1)
  end
  if died >= maxDeaths then
    local id = string.sub(redis.sha1hex(sha .. consumer .. now .. quarantined), 1, 20)
    local record = cjson.encode({
      id = id, messageId = messageIdOf(message, sha), queue = queueName, reason = 'poison',
      error = 'its consumer died ' .. died .. ' times while running it (last: ' .. consumer .. ')',
      attempts = tonumber(redis.call('HGET', attempts, sha) or '0') + 1,
      consumer = consumer, failedAt = now,
    })
    writeDeadLetter(deadIndex, deadRecords, deadMessages, id, now, record, message)
    redis.call('HDEL', deaths, sha)
    redis.call('HDEL', attempts, sha)
    quarantined = quarantined + 1
  else
    redis.call('RPUSH', queue, message)
    returned = returned + 1
  end
end
redis.call('DEL', waiting, alive)
redis.call('ZREM', consumers, consumer)
if quarantined > 0 then capDeadLetters(deadIndex, deadRecords, deadMessages, cap) end
return {returned, quarantined}
