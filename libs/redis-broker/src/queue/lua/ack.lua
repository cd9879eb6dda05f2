-- ack: messages were handled; forget them. One call settles a whole batch.
-- KEYS[1] processing list of the consumer
-- KEYS[2] attempts hash
-- KEYS[3] deaths hash
-- KEYS[4] alive marker of the consumer (set by its snapshot, deleted when it is reaped)
-- ARGV[1] how many copies to cut from the list's oldest (right) end: the
--         consumer knows them to be acked ones; 0 for none
-- ARGV[2] sha1 of every cut or unlisted message with retry state to clear, joined by commas
-- ARGV[3] one character per message sent by body: "1" when it had retry state to clear, else "0"
-- ARGV[4] the byte length of each message sent by body, joined by commas
-- ARGV[5] the messages sent by body, concatenated
-- Returns how many copies were removed from the processing list in all (a
-- message reaped meanwhile removes none: it then runs again, at-least-once),
-- or -1 with nothing done when a cut was asked and the alive marker is gone:
-- a reaper returned the list meanwhile, so the count no longer means those copies.
-- Copies sent by body: fetches put the oldest messages at the right end of
-- the processing list, and those are usually the ones acknowledged: the
-- acked copies found at the right end go with one LRANGE and one LTRIM, the
-- others one LREM each (the oldest equal copy). Equal copies are counted,
-- never more removed than acked.
local processing, attempts, deaths, alive = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cut = tonumber(ARGV[1])
if cut > 0 then
  if redis.call('EXISTS', alive) == 0 then return -1 end
  redis.call('LTRIM', processing, 0, -cut - 1)
end
for sha in string.gmatch(ARGV[2], '[^,]+') do
  redis.call('HDEL', attempts, sha)
  redis.call('HDEL', deaths, sha)
end
local flags, blob = ARGV[3], ARGV[5]
local wanted, k, pos = {}, 0, 1
for len in string.gmatch(ARGV[4], '%d+') do
  k = k + 1
  local size = tonumber(len)
  local message = string.sub(blob, pos, pos + size - 1)
  pos = pos + size
  wanted[message] = (wanted[message] or 0) + 1
  if string.byte(flags, k) == 49 then
    local sha = redis.sha1hex(message)
    redis.call('HDEL', attempts, sha)
    redis.call('HDEL', deaths, sha)
  end
end
if k == 0 then return cut end
local tail = redis.call('LRANGE', processing, -k, -1)
local matched = 0
for i = #tail, 1, -1 do
  local left = wanted[tail[i]]
  if not left or left == 0 then break end
  wanted[tail[i]] = left - 1
  matched = matched + 1
end
if matched > 0 then redis.call('LTRIM', processing, 0, -matched - 1) end
local removed = cut + matched
-- The rest (acked out of order) may sit anywhere, unless the list was read whole.
if matched < k and #tail > matched then
  for message, left in pairs(wanted) do
    for _ = 1, left do
      local n = redis.call('LREM', processing, -1, message)
      if n == 0 then break end
      removed = removed + n
    end
  end
end
return removed
