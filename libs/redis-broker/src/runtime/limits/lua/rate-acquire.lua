-- rate-acquire: counts up to `wanted` starts into a sliding-window rate limit,
-- each dated at the earliest moment the window has room for it, no later
-- than `lead` ms from now (0: only now). With a lead (a consumer with a
-- backlog), a slot taken while the window has room is also paced: at least
-- perMs/max after the newest start, so a backlog fills the window evenly and
-- the window, which repeats its own pattern, stays even (no burst).
-- KEYS[1] the window: ZSET member -> time of its start (ms, Redis clock); a
--         reservation's time lies `hold` ms ahead until rate-commit re-dates it
-- ARGV[1] max: most members in any window
-- ARGV[2] wanted: starts asked for (1 or more)
-- ARGV[3] perMs: the window's length in ms
-- ARGV[4] hold: members are dated now + hold, to be committed (0: dated at
--         their slot's time, nothing to commit); a hold is only taken now
-- ARGV[5] a unique id; the members are <id>:1 ... <id>:<granted>
-- ARGV[6] lead: how far ahead a slot may be dated, in ms (0 when absent:
--         no pacing either); only with hold 0
-- ARGV[7] catchUp: with a lead, how far back a slot may be dated, in ms (0
--         when absent): a slot that freed while every consumer was late (a
--         stalled host) is dated when it freed, not when claimed, so the
--         stall does not lose it; only behind every member of the window
-- Returns {granted, waitMs, offset_1, ..., offset_granted}: offset_i is the
-- ms from now to member i's time, 0 for one dated back (0 <= offset_i <=
-- lead, ascending); with
-- granted 0, waitMs is how long until a slot is within `lead` of now (at
-- least 1; a hold reservation still ahead makes it long: callers cap it).
-- Invariant: any interval (t - perMs, t] of the Redis clock holds at most
-- max members. A slot is dated at or after the max-th newest member + perMs
-- (or at or after now, when fewer than max members are younger than
-- perMs), so no interval holding it holds max others. A slot dated back
-- (catchUp) is dated after every member, hold reservations included, so it
-- is the newest and the same holds of every interval that contains it.
-- Pacing only dates slots later. Dropping a member, or re-dating a
-- hold reservation to a time between its taking and its hold (rate-commit),
-- keeps the invariant: the reservation was counted as the newest member by
-- every slot dated meanwhile.
--@include redis-time
local window = KEYS[1]
local max, wanted, perMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local hold, id = tonumber(ARGV[4]), ARGV[5]
local lead = hold > 0 and 0 or tonumber(ARGV[6] or '0')
local catchUp = lead > 0 and tonumber(ARGV[7] or '0') or 0
local now = redisNowMs()
-- Kept back to now - catchUp - perMs: a slot dated back is checked against the window before it.
redis.call('ZREMRANGEBYSCORE', window, '-inf', now - perMs - catchUp)
local reply = {0, 0}
for i = 1, wanted do
  local count = redis.call('ZCARD', window)
  local at = now
  if catchUp > 0 then
    local last = redis.call('ZRANGE', window, -1, -1, 'WITHSCORES')
    at = now - catchUp
    if #last > 0 then at = math.min(now, math.max(at, tonumber(last[2]))) end
  end
  local earliest = at
  if count >= max then
    local kth = redis.call('ZRANGE', window, count - max, count - max, 'WITHSCORES')
    at = math.max(earliest, tonumber(kth[2]) + perMs)
  elseif lead > 0 then
    -- The newest dated start (a hold reservation lies beyond the lead: not a start yet).
    local newest = redis.call('ZREVRANGEBYSCORE', window, now + lead, '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if #newest > 0 then at = math.max(earliest, math.ceil(tonumber(newest[2]) + perMs / max)) end
  end
  if at - now > lead then
    if i == 1 then reply[2] = math.max(1, at - now - lead) end
    break
  end
  redis.call('ZADD', window, hold > 0 and now + hold or at, id .. ':' .. i)
  reply[1] = i
  reply[#reply + 1] = math.max(0, at - now)
end
if reply[1] > 0 then
  -- The key outlives its newest member's window, and no more.
  local newest = redis.call('ZRANGE', window, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', window, math.max(1, tonumber(newest[2]) + perMs - now))
end
return reply
