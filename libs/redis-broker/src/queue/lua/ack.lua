-- ack: a message was handled; forget it.
-- KEYS[1] processing list of the consumer
-- KEYS[2] active hash of the consumer: sha1 -> start time
-- KEYS[3] attempts hash
-- KEYS[4] deaths hash
-- ARGV[1] the message
-- ARGV[2] sha1 of the message
-- ARGV[3] "1" when the message had retry state to clear, else "0"
-- Returns how many copies were removed from the processing list (0 when it
-- had been reaped already: it then runs again, at-least-once).
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[3], ARGV[2])
  redis.call('HDEL', KEYS[4], ARGV[2])
end
return removed
