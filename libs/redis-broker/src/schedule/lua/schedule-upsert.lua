-- schedule-upsert: create or change one schedule, idempotently.
-- KEYS[1] index zset: schedule id -> next run (ms)
-- KEYS[2] definitions hash: schedule id -> definition JSON
-- KEYS[3] runs hash: schedule id -> ticks fired so far
-- ARGV[1] schedule id
-- ARGV[2] the definition JSON (normalised: the same definition is the same text)
-- ARGV[3] its first run (ms) computed from the Redis clock, or "" when it never runs
-- ARGV[4] its limit of runs (0: none)
-- Returns 0 when the stored definition is the same (nothing changes: its next
-- run is kept), 1 when created, 2 when changed (next run recomputed, runs kept).
-- Invariant: a schedule is in the index iff it will run again.
local index, definitions, runs = KEYS[1], KEYS[2], KEYS[3]
local id, definition, first, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local current = redis.call('HGET', definitions, id)
if current == definition then return 0 end
redis.call('HSET', definitions, id, definition)
local done = tonumber(redis.call('HGET', runs, id) or '0')
if first == '' or (limit > 0 and done >= limit) then
  redis.call('ZREM', index, id)
else
  redis.call('ZADD', index, first, id)
end
if current then return 2 end
return 1
