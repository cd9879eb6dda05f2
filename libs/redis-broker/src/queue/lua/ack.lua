-- ack: messages were handled; forget them. One call settles a whole batch.
-- KEYS[1] processing list of the consumer
-- KEYS[2] active hash of the consumer: sha1 -> start time
-- KEYS[3] attempts hash
-- KEYS[4] deaths hash
-- ARGV[3i-2] a message
-- ARGV[3i-1] sha1 of that message
-- ARGV[3i]   "1" when that message had retry state to clear, else "0"
-- Returns how many copies were removed from the processing list in all (a
-- message reaped meanwhile removes none: it then runs again, at-least-once).
-- LREM counts from the tail, where the oldest messages sit: those are
-- usually the ones being acknowledged, so the scan is short.
local removed = 0
local shas = {}
for i = 1, #ARGV, 3 do
  removed = removed + redis.call('LREM', KEYS[1], -1, ARGV[i])
  local sha = ARGV[i + 1]
  shas[#shas + 1] = sha
  if ARGV[i + 2] == '1' then
    redis.call('HDEL', KEYS[3], sha)
    redis.call('HDEL', KEYS[4], sha)
  end
end
redis.call('HDEL', KEYS[2], unpack(shas))
return removed
