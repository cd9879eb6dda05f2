-- snapshot: read a consumer's whole processing list and mark the consumer
-- alive, in one step, to rebuild its model of the list (see ack.lua).
-- KEYS[1] processing list of the consumer
-- KEYS[2] alive marker of the consumer
-- Returns the list, newest first (LRANGE 0 -1).
-- Invariant: a reaper that ran before this returned the list and deleted the
-- marker; one that runs after deletes the marker again, so the consumer's
-- next cut by count is refused.
local processing, alive = KEYS[1], KEYS[2]
redis.call('SET', alive, '1')
return redis.call('LRANGE', processing, 0, -1)
