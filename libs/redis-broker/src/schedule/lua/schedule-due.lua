-- schedule-due: one poll, read only: what is due now by the Redis clock.
-- KEYS[1] index zset: schedule id -> next run (ms)
-- KEYS[2] definitions hash: schedule id -> definition JSON
-- KEYS[3] outbox zset: "<tick ms> <schedule id>" -> when claimed (ms)
-- ARGV[1] most due schedules to return
-- ARGV[2] age (ms) from which a claimed tick still in the outbox is stale
-- Returns { now, earliest next run (-1: none), due count, id, next run,
-- definition (false: missing), ... (due count times), stale outbox members... }.
-- Invariant: nothing is written; claims are made one by one by schedule-claim.
--@include redis-time
local index, definitions, outbox = KEYS[1], KEYS[2], KEYS[3]
local limit, staleMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = redisNowMs()
local first = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
local earliest = -1
if first[2] then earliest = tonumber(first[2]) end
local result = { now, earliest, 0 }
if earliest >= 0 and earliest <= now then
  local due = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #due, 2 do
    result[#result + 1] = due[i]
    result[#result + 1] = due[i + 1]
    result[#result + 1] = redis.call('HGET', definitions, due[i])
  end
  result[3] = #due / 2
end
local stale = redis.call('ZRANGEBYSCORE', outbox, '-inf', now - staleMs, 'LIMIT', 0, limit)
for i = 1, #stale do result[#result + 1] = stale[i] end
return result
