-- stream-dead-letter: copy an entry a group gives up on to the group's
-- dead-letter stream and acknowledge it.
-- KEYS[1] the stream the entry was read from (the stream or the group's requeue stream)
-- KEYS[2] the group's dead-letter stream
-- ARGV[1] group
-- ARGV[2] entry id
-- ARGV[3] JSON array of the original fields: [field, value, ...]
-- ARGV[4] reason (max-deliveries, non-retryable, validation, unparsable, too-large, timeout)
-- ARGV[5] error text
-- ARGV[6] deliveries so far
-- ARGV[7] consumer name
-- ARGV[8] handler (Class@method)
-- ARGV[9] stream name without prefix
-- ARGV[10] cap of the dead-letter stream (approximate MAXLEN), 0 for none
-- ARGV[11] 1 when KEYS[1] is the group's requeue stream: the entry is deleted
--          from it too (only this group reads it), else 0
-- Returns the id of the dead-letter entry.
-- Invariant: the copy and the XACK are one step: an entry is never acked
-- without its dead-letter copy, nor copied twice by one consumer.
--@include redis-time
local source, deadLetters = KEYS[1], KEYS[2]
local group, entryId, cap = ARGV[1], ARGV[2], tonumber(ARGV[10])
local args = { deadLetters }
if cap > 0 then
  table.insert(args, 'MAXLEN')
  table.insert(args, '~')
  table.insert(args, cap)
end
table.insert(args, '*')
local record = {
  'originalId', entryId, 'stream', ARGV[9], 'group', group, 'consumer', ARGV[7],
  'reason', ARGV[4], 'error', ARGV[5], 'deliveries', ARGV[6], 'handler', ARGV[8],
  'failedAt', tostring(redisNowMs()), 'fields', ARGV[3],
}
for _, v in ipairs(record) do table.insert(args, v) end
local id = redis.call('XADD', unpack(args))
redis.call('XACK', source, group, entryId)
if ARGV[11] == '1' then redis.call('XDEL', source, entryId) end
return id
