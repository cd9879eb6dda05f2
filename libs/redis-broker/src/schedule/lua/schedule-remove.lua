-- schedule-remove: delete one schedule (its claimed, undelivered ticks are dropped by the poller).
-- KEYS[1] index zset: schedule id -> next run (ms)
-- KEYS[2] definitions hash: schedule id -> definition JSON
-- KEYS[3] runs hash: schedule id -> ticks fired so far
-- KEYS[4] last-runs hash: schedule id -> time of its last tick (ms)
-- ARGV[1] schedule id
-- Returns 1 when it existed, 0 when not.
local index, definitions, runs, lastRuns = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[1]
redis.call('ZREM', index, id)
redis.call('HDEL', runs, id)
redis.call('HDEL', lastRuns, id)
return redis.call('HDEL', definitions, id)
