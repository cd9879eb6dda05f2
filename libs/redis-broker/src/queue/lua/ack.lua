-- ack: messages were handled; forget them. One call settles a whole batch.
-- KEYS[1] processing list of the consumer
-- KEYS[2] attempts hash
-- KEYS[3] deaths hash
-- ARGV[1] one character per message: "1" when it had retry state to clear, else "0"
-- ARGV[2] the byte length of each message, joined by commas
-- ARGV[3] the messages, concatenated
-- Returns how many copies were removed from the processing list in all (a
-- message reaped meanwhile removes none: it then runs again, at-least-once).
-- Fetches put the oldest messages at the right end of the processing list,
-- and those are usually the ones acknowledged: the acked copies found at
-- the right end go with one LRANGE and one LTRIM, the others one LREM each.
-- Equal copies are counted, never more removed than acked. Three arguments
-- whatever the batch size, and a sha1 only for a message with retry state.
local flags, blob = ARGV[1], ARGV[3]
local wanted, k, pos = {}, 0, 1
for len in string.gmatch(ARGV[2], '%d+') do
  k = k + 1
  local size = tonumber(len)
  local message = string.sub(blob, pos, pos + size - 1)
  pos = pos + size
  wanted[message] = (wanted[message] or 0) + 1
  if string.byte(flags, k) == 49 then
    local sha = redis.sha1hex(message)
    redis.call('HDEL', KEYS[2], sha)
    redis.call('HDEL', KEYS[3], sha)
  end
end
if k == 0 then return 0 end
local tail = redis.call('LRANGE', KEYS[1], -k, -1)
local matched = 0
for i = #tail, 1, -1 do
  local left = wanted[tail[i]]
  if not left or left == 0 then break end
  wanted[tail[i]] = left - 1
  matched = matched + 1
end
if matched > 0 then redis.call('LTRIM', KEYS[1], 0, -matched - 1) end
local removed = matched
-- The rest (acked out of order) may sit anywhere, unless the list was read whole.
if matched < k and #tail > matched then
  for message, left in pairs(wanted) do
    for _ = 1, left do
      local n = redis.call('LREM', KEYS[1], -1, message)
      if n == 0 then break end
      removed = removed + n
    end
  end
end
return removed
