-- lease-release: gives back run slots and wakes as many waiters.
-- KEYS[1] the leases (see lease-acquire)
-- KEYS[2] the release list: one item per release, which waiters BLPOP
-- ARGV[1] limit: the release list is cut to this many items
-- ARGV[2] how long the release list lives without a release, in ms
-- ARGV[3..] the leases to give back
-- Returns how many of them were still held (an expired one is gone already).
-- Invariant: the release list holds at most `limit` items, so a waiter woken
-- by a stale item retries at most `limit` times before it blocks again.
local leases, released = KEYS[1], KEYS[2]
local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local removed = 0
for i = 3, #ARGV do
  removed = removed + redis.call('ZREM', leases, ARGV[i])
end
if removed > 0 then
  for _ = 1, math.min(removed, limit) do
    redis.call('LPUSH', released, '1')
  end
  redis.call('LTRIM', released, 0, limit - 1)
  redis.call('PEXPIRE', released, ttl)
end
return removed
