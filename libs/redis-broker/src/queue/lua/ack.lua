-- ack: messages were handled; forget them. One call settles a whole batch.
-- KEYS[1] processing list of the consumer
-- KEYS[2] attempts hash
-- KEYS[3] deaths hash
-- ARGV[1] one character per message: "1" when it had retry state to clear, else "0"
-- ARGV[2] the byte length of each message, joined by commas
-- ARGV[3] the messages, concatenated
-- Returns how many copies were removed from the processing list in all (a
-- message reaped meanwhile removes none: it then runs again, at-least-once).
-- LREM counts from the tail, where the oldest messages sit: those are
-- usually the ones being acknowledged, so the scan is short. Three
-- arguments whatever the batch size, and a sha1 only for a message with
-- retry state: the common case costs one LREM per message.
local removed = 0
local flags, blob = ARGV[1], ARGV[3]
local pos, i = 1, 0
for len in string.gmatch(ARGV[2], '%d+') do
  i = i + 1
  local message = string.sub(blob, pos, pos + tonumber(len) - 1)
  pos = pos + tonumber(len)
  removed = removed + redis.call('LREM', KEYS[1], -1, message)
  if string.byte(flags, i) == 49 then
    local sha = redis.sha1hex(message)
    redis.call('HDEL', KEYS[2], sha)
    redis.call('HDEL', KEYS[3], sha)
  end
end
return removed
