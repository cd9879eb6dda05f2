-- promote: move delayed and retried messages that are due onto the queue.
-- KEYS[1] delayed zset: <16-char uid><message> -> due time (ms)
-- KEYS[2] queue list
-- ARGV[1] most messages to move in this call
-- Returns {moved, ms until the next one is due (-1 when none is left)}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  redis.call('LPUSH', KEYS[2], string.sub(member, 17))
  redis.call('ZREM', KEYS[1], member)
end
local nextDue = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if nextDue[2] then
  return {#due, math.max(0, tonumber(nextDue[2]) - now)}
end
return {#due, -1}
