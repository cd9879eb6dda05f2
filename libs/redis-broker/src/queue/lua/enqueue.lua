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
--@include redis-time
local queue, delayed, dedup = KEYS[1], KEYS[2], KEYS[3]
local message, delay, window, priority, uid = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
if window > 0 then
  if not redis.call('SET', dedup, '1', 'NX', 'PX', ARGV[3]) then return 0 end
end
if delay > 0 then
  redis.call('ZADD', delayed, redisNowMs() + delay, uid .. message)
elseif priority == 'high' then
  redis.call('RPUSH', queue, message)
else
  redis.call('LPUSH', queue, message)
end
return 1
