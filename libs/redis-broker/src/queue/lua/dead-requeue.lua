-- dead-requeue: put dead-lettered messages back on their queue.
-- KEYS[1] queue list
-- KEYS[2] dead index zset
-- KEYS[3] dead records hash
-- KEYS[4] dead messages hash
-- ARGV[1..] dead-letter ids
-- Returns how many messages were requeued (unknown ids are skipped).
-- Invariant: a message leaves the dead-letter list in the step it re-enters
-- the queue, with fresh retry state (cleared when it died).
local queue, deadIndex, deadRecords, deadMessages = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n = 0
for _, id in ipairs(ARGV) do
  local message = redis.call('HGET', deadMessages, id)
  if message then
    redis.call('LPUSH', queue, message)
    n = n + 1
  end
  redis.call('ZREM', deadIndex, id)
  redis.call('HDEL', deadRecords, id)
  redis.call('HDEL', deadMessages, id)
end
return n
