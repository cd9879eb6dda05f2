-- rate-commit: settles the reservations of one rate-acquire once the fetch
-- they were taken for has returned.
-- KEYS[1] the window (see rate-acquire)
-- ARGV[1] the id the reservations were taken with
-- ARGV[2] used: how many messages the fetch brought; <id>:1..used are
--         re-dated to now (their start), the others are removed
-- ARGV[3] granted: how many were reserved
-- ARGV[4] perMs: the window's length in ms
-- Returns how many reservations were re-dated (fewer than used only if the
-- window key was deleted meanwhile).
-- Invariant: a reservation lies ahead of now until committed, so re-dating
-- it to now only moves a counted start later: no window gains a member.
--@include redis-time
local window = KEYS[1]
local id, used, granted, perMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = redisNowMs()
local dated = 0
for i = 1, used do
  dated = dated + redis.call('ZADD', window, 'XX', 'CH', now, id .. ':' .. i)
end
for i = used + 1, granted do
  redis.call('ZREM', window, id .. ':' .. i)
end
local newest = redis.call('ZRANGE', window, -1, -1, 'WITHSCORES')
if #newest > 0 then
  redis.call('PEXPIRE', window, math.max(1, tonumber(newest[2]) + perMs - now))
end
return dated
