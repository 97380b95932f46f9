-- Admit: ARGV = prefix, concert, now, window end, max active, keep.
-- Expires lapsed windows, then moves the head of the line into the free
-- places: none while the line is paused or its pre-queue not yet drawn.
-- Returns how many were admitted.
local now, ends, max, keep = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
expire_lapsed(now, keep)

local room = room_cap(max) - redis.call('ZCARD', q .. 'active')
if redis.call('ZCARD', q .. 'prequeue') > 0 then
  room = 0
end
local admitted = 0
if room > 0 then
  local head = redis.call('ZRANGE', q .. 'waiting', 0, room - 1)
  for _, t in ipairs(head) do
    redis.call('ZREM', q .. 'waiting', t)
    redis.call('ZADD', q .. 'active', ends, t)
    redis.call('HSET', p .. 'token:' .. t, 'st', 'ACTIVE', 'x', ends)
  end
  admitted = #head
  if admitted > 0 then
    redis.call('INCRBY', q .. 'admitted', admitted)
  end
end
if redis.call('ZCARD', q .. 'waiting') == 0 and redis.call('ZCARD', q .. 'prequeue') == 0 then
  redis.call('SREM', p .. 'queues', c)
end

-- The observed admission rate, re-measured over windows of at least 10 s.
local at = tonumber(redis.call('HGET', q .. 'rate', 'at') or '0')
local elapsed = tonumber(now) - at
if elapsed >= 10000 then
  local total = tonumber(redis.call('GET', q .. 'admitted') or '0')
  local since = tonumber(redis.call('HGET', q .. 'rate', 'n') or '0')
  local milli = math.floor((total - since) * 1000000 / elapsed)
  redis.call('HSET', q .. 'rate', 'at', now, 'n', total, 'milli', milli)
end
return admitted
