-- stream-idle-consumers: delete the consumers of a group that hold nothing
-- and have been idle past a bound, so restarts with fresh consumer names do
-- not leave one name behind each (XINFO CONSUMERS would only grow).
-- KEYS[1] the stream (or the group's requeue stream)
-- ARGV[1] group
-- ARGV[2] idle bound in ms: a consumer idle longer, with nothing pending, is deleted
-- ARGV[3] the calling consumer, never deleted
-- Returns how many consumers were deleted.
-- Invariant: XGROUP DELCONSUMER drops the consumer's pending entries with it,
-- so only a consumer with 0 pending is deleted, checked in this same atomic
-- step. A live consumer that merely read nothing for that long (Redis before
-- 7.2 does not refresh idle on an empty read) is recreated by its next read.
-- A deleted stream is left to the caller's next command, which answers
-- NOGROUP and recreates the group ("no such key" here would not).
local stream = KEYS[1]
local group, bound, caller = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if redis.call('EXISTS', stream) == 0 then return 0 end
local deleted = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['name'] ~= caller and info['pending'] == 0 and info['idle'] > bound then
    redis.call('XGROUP', 'DELCONSUMER', stream, group, info['name'])
    deleted = deleted + 1
  end
end
return deleted
