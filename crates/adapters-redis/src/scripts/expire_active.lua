-- Expire after payment: ARGV = prefix, concert, user, now, keep.
local u, now, keep = ARGV[3], ARGV[4], ARGV[5]
local t = redis.call('GET', p .. 'user:' .. u .. ':' .. c)
if not t or redis.call('HGET', p .. 'token:' .. t, 'st') ~= 'ACTIVE' then
  return 0
end
redis.call('ZREM', q .. 'active', t)
redis.call('HSET', p .. 'token:' .. t, 'st', 'EXPIRED', 'x', now)
redis.call('PEXPIRE', p .. 'token:' .. t, keep)
return 1
