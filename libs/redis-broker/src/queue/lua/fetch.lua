-- fetch: take up to N messages for a consumer and report their retry state.
-- KEYS[1] queue list (consumers take from its right end)
-- KEYS[2] processing list of this consumer (reliable mode only)
-- KEYS[3] attempts hash: sha1(message) -> failed attempts
-- KEYS[4] deaths hash: sha1(message) -> consumer deaths while running it
-- KEYS[5] active hash of this consumer: sha1 -> start time (reliable mode only)
-- ARGV[1] "reliable" (move into the processing list) or "fast" (pop)
-- ARGV[2] how many messages to take now (0 allowed)
-- ARGV[3] how many of the messages, in reply order, start running as soon
--         as the reply arrives: those are marked active here (0: none)
-- ARGV[4..] messages the caller already took with a blocking command; their state is reported first
-- Returns a flat array: message, attempts, deaths, marked (1/0), message, ...
-- Invariants: in reliable mode a message is in the processing list before the
-- reply leaves Redis, so a lost reply never loses it. Marking stops at the
-- first message that already has a death: the caller runs such a message
-- alone, after the others, so it must not be blamed before it starts.
local out = {}
local n = 0
local function add(message)
  out[n + 1] = message
  out[n + 2] = 0
  out[n + 3] = 0
  out[n + 4] = 0
  n = n + 4
end
for i = 4, #ARGV do add(ARGV[i]) end
local count = tonumber(ARGV[2])
if count > 0 then
  if ARGV[1] == 'reliable' then
    for _ = 1, count do
      local message = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
      if not message then break end
      add(message)
    end
  else
    local popped = redis.call('RPOP', KEYS[1], count)
    if popped then
      for _, message in ipairs(popped) do add(message) end
    end
  end
end
-- Hashing costs CPU: only when some message of the queue has retry state.
if n > 0 and redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then
  for i = 1, n, 4 do
    local sha = redis.sha1hex(out[i])
    out[i + 1] = tonumber(redis.call('HGET', KEYS[3], sha) or '0')
    out[i + 2] = tonumber(redis.call('HGET', KEYS[4], sha) or '0')
  end
end
local toMark = math.min(tonumber(ARGV[3]), n / 4)
if toMark > 0 then
  local t = redis.call('TIME')
  local now = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  local fields = {}
  for i = 1, toMark * 4, 4 do
    if out[i + 2] > 0 then break end
    fields[#fields + 1] = redis.sha1hex(out[i])
    fields[#fields + 1] = now
    out[i + 3] = 1
  end
  if #fields > 0 then redis.call('HSET', KEYS[5], unpack(fields)) end
end
return out
