-- stream-dead-requeue: put dead-letter entries back for their group alone,
-- by appending their original fields to the group's requeue stream.
-- KEYS[1] the group's dead-letter stream
-- KEYS[2] the group's requeue stream (read by the group beside the stream)
-- ARGV[1..n] dead-letter entry ids, complete (<ms>-<seq>)
-- Returns how many were requeued (unknown ids, and records without fields, stay).
-- Invariant: an entry leaves the dead-letter stream only in the step that
-- appends it to the requeue stream, so it is requeued at most once; other
-- groups never see it again. The entry is deleted by the id XRANGE returned,
-- not the id given: a bare <ms> reads as a range of that whole millisecond
-- for XRANGE but as <ms>-0 for XDEL, and would requeue an entry it does not
-- delete (the library refuses such ids; this keeps the script safe alone).
local deadLetters, requeue = KEYS[1], KEYS[2]
local moved = 0
for _, id in ipairs(ARGV) do
  local found = redis.call('XRANGE', deadLetters, id, id)
  if #found == 1 then
    local flat = found[1][2]
    local encoded
    for i = 1, #flat, 2 do
      if flat[i] == 'fields' then encoded = flat[i + 1] end
    end
    if encoded then
      local fields = cjson.decode(encoded)
      if #fields >= 2 then
        redis.call('XADD', requeue, '*', unpack(fields))
        redis.call('XDEL', deadLetters, found[1][1])
        moved = moved + 1
      end
    end
  end
end
return moved
