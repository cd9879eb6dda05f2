-- lease-renew: pushes back the expiry of leases whose runs are still going.
-- KEYS[1] the leases (see lease-acquire)
-- ARGV[1] leaseMs: the new expiry is now + leaseMs
-- ARGV[2..] the leases held by this process
-- Returns how many were renewed; one missing had expired (its process
-- stalled longer than leaseMs) and its slot may be running someone else's run.
-- Invariant: only a live lease is renewed: an expired one is never revived.
--@include redis-time
local leases = KEYS[1]
local leaseMs = tonumber(ARGV[1])
local now = redisNowMs()
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
local renewed = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', leases, ARGV[i]) then
    redis.call('ZADD', leases, now + leaseMs, ARGV[i])
    renewed = renewed + 1
  end
end
if renewed > 0 then redis.call('PEXPIRE', leases, leaseMs) end
return renewed
