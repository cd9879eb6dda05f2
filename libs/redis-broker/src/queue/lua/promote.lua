-- promote: move delayed and retried messages that are due onto the queue.
-- KEYS[1] delayed zset: <16-char uid><message> -> due time (ms)
-- KEYS[2] queue list
-- ARGV[1] most messages to move in this call
-- Returns {moved, ms until the next one is due (-1 when none is left)}.
--@include redis-time
local delayed, queue = KEYS[1], KEYS[2]
local now = redisNowMs()
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  redis.call('LPUSH', queue, string.sub(member, 17))
  redis.call('ZREM', delayed, member)
end
local nextDue = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
if nextDue[2] then
  return {#due, math.max(0, tonumber(nextDue[2]) - now)}
end
return {#due, -1}
