-- include redis-time: the Redis server's clock in milliseconds.
-- Every deadline, due time and dead-letter time is read from this one
-- clock, never a host's: hosts with skewed clocks then still agree.
local function redisNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
