-- fetch: take up to N messages for a consumer and report their retry state.
-- KEYS[1] queue list (consumers take from its right end)
-- KEYS[2] processing list of this consumer (reliable mode only)
-- KEYS[3] attempts hash: sha1(message) -> failed attempts
-- KEYS[4] deaths hash: sha1(message) -> consumer deaths while running it
-- KEYS[5] waiting hash of this consumer: sha1 -> fetch time (reliable mode only)
-- KEYS[6] alive marker of the consumer (reliable mode only; see ack.lua)
-- ARGV[1] "reliable" (move into the processing list) or "fast" (pop)
-- ARGV[2] how many messages to take now (0 allowed)
-- ARGV[3] how many of the messages, in reply order, start running as soon
--         as the reply arrives; the others are recorded in the waiting hash
--         (reliable mode), so a crash before they start does not blame them
-- ARGV[4] acks riding along: how many copies to cut from the processing
--         list's oldest (right) end before the fetch, as ack.lua's ARGV[1]
--         (0: none; reliable mode only)
-- ARGV[5..] messages the caller already took with a blocking command; their state is reported first
-- Returns {started, state, lengths, messages, cut}: the first `started` messages
-- count as running from now on, the rest were recorded as waiting; `state` is "" when no message has retry state, else
-- "attempts:deaths" per message joined by commas; `messages` is every
-- message concatenated, `lengths` their byte lengths joined by commas; `cut`
-- is how many copies were cut, or -1 with none cut when the alive marker is
-- gone (as ack.lua refuses). Five reply elements whatever the batch size keep
-- the reply cheap to decode.
-- Invariants: in reliable mode a message is in the processing list before the
-- reply leaves Redis, so a lost reply never loses it. The running prefix
-- stops at the first message that already has a death: the caller runs such
-- a message alone, after the others, so it must not be blamed before it
-- starts. In the common case (every message starts at once) nothing is
-- written or hashed besides the moves.
local cut = tonumber(ARGV[4])
if cut > 0 then
  if redis.call('EXISTS', KEYS[6]) == 0 then
    cut = -1
  else
    redis.call('LTRIM', KEYS[2], 0, -cut - 1)
  end
end
-- The messages, oldest first: those passed in, then those taken now. Without
-- any passed in (the common case) the RPOP reply itself, not a copy.
local messages = {}
for i = 5, #ARGV do messages[#messages + 1] = ARGV[i] end
local count = tonumber(ARGV[2])
if count > 0 then
  -- RPOP with a count takes the oldest first: one call for the batch, as n
  -- LMOVEs would, but without n script-to-Redis calls.
  local popped = redis.call('RPOP', KEYS[1], count)
  if popped then
    if ARGV[1] == 'reliable' then
      -- Pushed left one after the other, so the oldest goes deepest (acks cut
      -- the oldest copies at the right end). unpack() is bounded by Lua's
      -- stack: push in chunks.
      for from = 1, #popped, 1000 do
        redis.call('LPUSH', KEYS[2], unpack(popped, from, math.min(#popped, from + 999)))
      end
    end
    if #messages == 0 then
      messages = popped
    else
      for i = 1, #popped do messages[#messages + 1] = popped[i] end
    end
  end
end
local n = #messages
local state = ''
local deathsOf = nil
-- Hashing costs CPU: only when some message of the queue has retry state.
if n > 0 and redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then
  local pairs, any = {}, false
  deathsOf = {}
  for i = 1, n do
    local sha = redis.sha1hex(messages[i])
    local attempts = tonumber(redis.call('HGET', KEYS[3], sha) or '0')
    local deaths = tonumber(redis.call('HGET', KEYS[4], sha) or '0')
    if attempts > 0 or deaths > 0 then any = true end
    deathsOf[i] = deaths
    pairs[i] = attempts .. ':' .. deaths
  end
  if any then state = table.concat(pairs, ',') end
end
local started = math.min(tonumber(ARGV[3]), n)
if deathsOf then
  for i = 1, started do
    if deathsOf[i] > 0 then
      started = i - 1
      break
    end
  end
end
if ARGV[1] == 'reliable' and started < n then
  local t = redis.call('TIME')
  local now = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  local fields = {}
  for i = started + 1, n do
    fields[#fields + 1] = redis.sha1hex(messages[i])
    fields[#fields + 1] = now
  end
  redis.call('HSET', KEYS[5], unpack(fields))
end
-- Lengths repeat (messages of one shape): each is formatted once.
local lengths, formatted = {}, {}
for i = 1, n do
  local length = #messages[i]
  local text = formatted[length]
  if not text then
    text = tostring(length)
    formatted[length] = text
  end
  lengths[i] = text
end
return {started, state, table.concat(lengths, ','), table.concat(messages), cut}
