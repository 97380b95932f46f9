-- Admit: ARGV = base, concert, now, window end, max active, keep.
-- Expires lapsed windows, then moves the head of the line into the free
-- places: none while the line is paused or its pre-queue not yet drawn.
-- Returns how many were admitted.
local now, ends, max, keep = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
expire_lapsed(now, keep)

local room = room_cap(max) - redis.call('ZCARD', K.active)
if redis.call('ZCARD', K.prequeue) > 0 then
  room = 0
end
local admitted = 0
if room > 0 then
  local head = redis.call('ZRANGE', K.waiting, 0, room - 1)
  for _, t in ipairs(head) do
    redis.call('ZREM', K.waiting, t)
    redis.call('ZADD', K.active, ends, t)
    redis.call('HSET', token_key(t), 'st', 'ACTIVE', 'x', ends)
  end
  admitted = #head
  if admitted > 0 then
    redis.call('INCRBY', K.admitted, admitted)
  end
end

-- The observed admission rate, re-measured over windows of at least 10 s.
local at = tonumber(redis.call('HGET', K.rate, 'at') or '0')
local elapsed = tonumber(now) - at
if elapsed >= 10000 then
  local total = tonumber(redis.call('GET', K.admitted) or '0')
  local since = tonumber(redis.call('HGET', K.rate, 'n') or '0')
  local milli = math.floor((total - since) * 1000000 / elapsed)
  redis.call('HSET', K.rate, 'at', now, 'n', total, 'milli', milli)
end
return admitted
