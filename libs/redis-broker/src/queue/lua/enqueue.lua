-- enqueue: add one message with delivery options (a plain enqueue is a bare LPUSH).
-- KEYS[1] queue list
-- KEYS[2] delayed zset: <16-char uid><message> -> due time (ms)
-- KEYS[3] dedup marker key (any key of the queue when ARGV[3] is 0)
-- ARGV[1] the message
-- ARGV[2] delay in ms (0: now)
-- ARGV[3] dedup window in ms (0: no dedup)
-- ARGV[4] "high" to be taken next, "normal" to wait in line
-- ARGV[5] a 16-character unique id
-- Returns 1 when enqueued, 0 when a duplicate within the dedup window.
if tonumber(ARGV[3]) > 0 then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then return 0 end
end
local delay = tonumber(ARGV[2])
if delay > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[2], now + delay, ARGV[5] .. ARGV[1])
elseif ARGV[4] == 'high' then
  redis.call('RPUSH', KEYS[1], ARGV[1])
else
  redis.call('LPUSH', KEYS[1], ARGV[1])
end
return 1
