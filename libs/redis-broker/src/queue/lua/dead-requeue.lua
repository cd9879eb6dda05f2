-- dead-requeue: put dead-lettered messages back on their queue.
-- KEYS[1] queue list
-- KEYS[2] dead index zset
-- KEYS[3] dead records hash
-- KEYS[4] dead messages hash
-- ARGV[1..] dead-letter ids
-- Returns how many messages were requeued (unknown ids are skipped).
-- Invariant: a message leaves the dead-letter list in the step it re-enters
-- the queue, with fresh retry state (cleared when it died).
local n = 0
for i = 1, #ARGV do
  local message = redis.call('HGET', KEYS[4], ARGV[i])
  if message then
    redis.call('LPUSH', KEYS[1], message)
    n = n + 1
  end
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[4], ARGV[i])
end
return n
