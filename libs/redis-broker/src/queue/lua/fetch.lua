-- fetch: take up to N messages for a consumer and report their retry state.
-- KEYS[1] queue list (consumers take from its right end)
-- KEYS[2] processing list of this consumer (reliable mode only)
-- KEYS[3] attempts hash: sha1(message) -> failed attempts
-- KEYS[4] deaths hash: sha1(message) -> consumer deaths while running it
-- ARGV[1] "reliable" (move into the processing list) or "fast" (pop)
-- ARGV[2] how many messages to take now (0 allowed)
-- ARGV[3..] messages the caller already took with a blocking command; their state is reported first
-- Returns a flat array: message, attempts, deaths, message, attempts, deaths, ...
-- Invariant: in reliable mode a message is in the processing list before the
-- reply leaves Redis, so a lost reply never loses it.
local out = {}
local n = 0
local function add(message)
  out[n + 1] = message
  out[n + 2] = 0
  out[n + 3] = 0
  n = n + 3
end
for i = 3, #ARGV do add(ARGV[i]) end
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
  for i = 1, n, 3 do
    local sha = redis.sha1hex(out[i])
    out[i + 1] = tonumber(redis.call('HGET', KEYS[3], sha) or '0')
    out[i + 2] = tonumber(redis.call('HGET', KEYS[4], sha) or '0')
  end
end
return out
