#!lua flags=allow-oom
-- release: a consumer shuts down; hand back everything it still holds.
-- KEYS[1] queue list
-- KEYS[2] processing list of the consumer
-- KEYS[3] waiting hash of the consumer
-- KEYS[4] consumers zset
-- KEYS[5] alive marker of the consumer
-- ARGV[1] consumer id
-- Returns how many messages went back to the queue.
-- Invariant: messages go to the consuming end, oldest first, so they are the
-- next ones any consumer takes; no death is counted (the stop was orderly).
-- Allowed when Redis is out of memory (allow-oom, Redis 7): it only moves
-- and deletes, and refused it would leave the list to a reaper, which
-- counts a death for each message started.
local queue, processing, waiting, consumers, alive = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local n = 0
while redis.call('LMOVE', processing, queue, 'LEFT', 'RIGHT') do n = n + 1 end
redis.call('DEL', waiting, alive)
redis.call('ZREM', consumers, ARGV[1])
return n
