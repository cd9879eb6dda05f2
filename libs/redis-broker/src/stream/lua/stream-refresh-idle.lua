-- stream-refresh-idle: reset the idle time of entries a consumer still holds
-- (running or waiting in its process), so another consumer's takeover
-- (XAUTOCLAIM after claimIdleMs) never runs a live entry a second time.
-- KEYS[1] the stream (or the group's requeue stream)
-- ARGV[1] group
-- ARGV[2] the consumer holding the entries
-- ARGV[3..n] entry ids, complete (<ms>-<seq>)
-- Returns how many entries were refreshed.
-- Invariant: only entries still pending in this consumer's own list are
-- claimed, checked in this same atomic step: XCLAIM with a min-idle-time of
-- 0 would otherwise take back an entry another consumer has already taken
-- over. JUSTID leaves the delivery count as it is (only the idle time is
-- reset), so a refresh never counts as a delivery.
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local args = { stream, group, consumer, 0 }
for i = 3, #ARGV do
  local id = ARGV[i]
  if #redis.call('XPENDING', stream, group, id, id, 1, consumer) == 1 then table.insert(args, id) end
end
if #args == 4 then return 0 end
table.insert(args, 'JUSTID')
return #redis.call('XCLAIM', unpack(args))
