-- rate-drop: gives back rate slots taken by rate-acquire and not used (a
-- fetch brought fewer messages than slots, or too late to start them on time).
-- KEYS[1] the window (see rate-acquire)
-- ARGV[1] the id the slots were taken with
-- ARGV[2..] the numbers of the slots to drop (<id>:<n>)
-- Returns how many were removed (fewer only if the window key was deleted
-- or the slots had left the window).
-- Invariant: removing a member never adds one to any interval, so the
-- window's bound (max per perMs) holds.
local window, id = KEYS[1], ARGV[1]
local removed = 0
for i = 2, #ARGV do
  removed = removed + redis.call('ZREM', window, id .. ':' .. ARGV[i])
end
return removed
