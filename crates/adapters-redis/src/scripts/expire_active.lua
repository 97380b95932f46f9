-- Expire after payment: ARGV = base, concert, user, now, keep.
local u, now, keep = ARGV[3], ARGV[4], ARGV[5]
local t = redis.call('GET', q .. 'user:' .. u)
if not t or redis.call('HGET', token_key(t), 'st') ~= 'ACTIVE' then
  return 0
end
redis.call('ZREM', K.active, t)
redis.call('HSET', token_key(t), 'st', 'EXPIRED', 'x', now)
redis.call('PEXPIRE', token_key(t), keep)
return 1
