-- schedule-claim: claim one tick of one schedule and advance it, atomically.
-- KEYS[1] index zset: schedule id -> next run (ms)
-- KEYS[2] runs hash: schedule id -> ticks fired so far
-- KEYS[3] last-runs hash: schedule id -> time of its last tick (ms)
-- KEYS[4] outbox zset: "<tick ms> <schedule id>" -> when claimed (ms)
-- ARGV[1] schedule id
-- ARGV[2] the next run the caller read (the tick it claims, ms)
-- ARGV[3] the run after it, computed by the caller from its definition ("" : none)
-- ARGV[4] 1 to fire the tick, 0 to skip it (a missed tick with misfire 'skip')
-- ARGV[5] its limit of runs (0: none)
-- Returns 1 when fired (the tick is in the outbox), 2 when skipped, 0 when
-- another poller claimed it first or the schedule changed or went, -1 when
-- the Redis clock has not reached the tick yet.
-- Invariant: a tick is claimed once: only the caller whose ARGV[2] equals the
-- stored next run advances it, and the advance moves it strictly forward.
--@include redis-time
local index, runs, lastRuns, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, tick, following, fire, limit = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local stored = redis.call('ZSCORE', index, id)
if not stored or tonumber(stored) ~= tick then return 0 end
local now = redisNowMs()
if now < tick then return -1 end
if following ~= '' and tonumber(following) <= tick then return redis.error_reply('schedule-claim: next run must be after the tick') end
local result = 2
if fire == '1' then
  local done = redis.call('HINCRBY', runs, id, 1)
  redis.call('HSET', lastRuns, id, tick)
  redis.call('ZADD', outbox, now, ARGV[2] .. ' ' .. id)
  if limit > 0 and done >= limit then following = '' end
  result = 1
end
if following == '' then
  redis.call('ZREM', index, id)
else
  redis.call('ZADD', index, following, id)
end
return result
