-- fetch: take up to N messages for a consumer and report their retry state.
-- KEYS[1] queue list (consumers take from its right end)
-- KEYS[2] processing list of this consumer (reliable mode only)
-- KEYS[3] attempts hash: sha1(message) -> failed attempts
-- KEYS[4] deaths hash: sha1(message) -> consumer deaths while running it
-- KEYS[5] waiting hash of this consumer: sha1 -> fetch time (reliable mode only)
-- ARGV[1] "reliable" (move into the processing list) or "fast" (pop)
-- ARGV[2] how many messages to take now (0 allowed)
-- ARGV[3] how many of the messages, in reply order, start running as soon
--         as the reply arrives; the others are recorded in the waiting hash
--         (reliable mode), so a crash before they start does not blame them
-- ARGV[4..] messages the caller already took with a blocking command; their state is reported first
-- Returns {started, state, lengths, messages}: the first `started` messages
-- count as running from now on, the rest were recorded as waiting; `state` is "" when no message has retry state, else
-- "attempts:deaths" per message joined by commas; `messages` is every
-- message concatenated, `lengths` their byte lengths joined by commas. Four
-- reply elements whatever the batch size keep the reply cheap to decode.
-- Invariants: in reliable mode a message is in the processing list before the
-- reply leaves Redis, so a lost reply never loses it. The running prefix
-- stops at the first message that already has a death: the caller runs such
-- a message alone, after the others, so it must not be blamed before it
-- starts. In the common case (every message starts at once) nothing is
-- written or hashed besides the moves.
--@include redis-time
local queue, processing, attempts, deaths, waiting = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local reliable = ARGV[1] == 'reliable'
-- Messages start at index 3 of `out` (1 and 2 are the reply's head).
local out = {0, ''}
local n = 2
for i = 4, #ARGV do
  n = n + 1
  out[n] = ARGV[i]
end
local count = tonumber(ARGV[2])
if count > 0 then
  -- RPOP with a count takes the oldest first: one call for the batch, as n
  -- LMOVEs would, but without n script-to-Redis calls.
  local popped = redis.call('RPOP', queue, count)
  if popped then
    if reliable then
      -- Pushed left one after the other, so the oldest goes deepest (acks cut
      -- the oldest copies at the right end). unpack() is bounded by Lua's
      -- stack: push in chunks.
      for from = 1, #popped, 1000 do
        redis.call('LPUSH', processing, unpack(popped, from, math.min(#popped, from + 999)))
      end
    end
    for i = 1, #popped do
      n = n + 1
      out[n] = popped[i]
    end
  end
end
local deathsOf = nil
-- Hashing costs CPU: only when some message of the queue has retry state.
if n > 2 and redis.call('EXISTS', attempts, deaths) > 0 then
  local state, any = {}, false
  deathsOf = {}
  for i = 3, n do
    local sha = redis.sha1hex(out[i])
    local failed = tonumber(redis.call('HGET', attempts, sha) or '0')
    local died = tonumber(redis.call('HGET', deaths, sha) or '0')
    if failed > 0 or died > 0 then any = true end
    deathsOf[i] = died
    state[#state + 1] = failed .. ':' .. died
  end
  if any then out[2] = table.concat(state, ',') end
end
local started = math.min(tonumber(ARGV[3]), n - 2)
if deathsOf then
  for i = 3, started + 2 do
    if deathsOf[i] > 0 then
      started = i - 3
      break
    end
  end
end
out[1] = started
if reliable and started < n - 2 then
  local now = tostring(redisNowMs())
  -- In chunks: unpack() is bounded by Lua's stack (about 8,000 values), and
  -- a prefetch window in the thousands leaves that many waiting.
  local fields = {}
  for i = started + 3, n do
    fields[#fields + 1] = redis.sha1hex(out[i])
    fields[#fields + 1] = now
    if #fields == 2000 then
      redis.call('HSET', waiting, unpack(fields))
      fields = {}
    end
  end
  if #fields > 0 then redis.call('HSET', waiting, unpack(fields)) end
end
-- Lengths repeat (messages of one shape): each is formatted once.
local lengths, formatted = {}, {}
for i = 3, n do
  local length = #out[i]
  local text = formatted[length]
  if not text then
    text = tostring(length)
    formatted[length] = text
  end
  lengths[i - 2] = text
end
return {out[1], out[2], table.concat(lengths, ','), table.concat(out, '', 3, n)}
