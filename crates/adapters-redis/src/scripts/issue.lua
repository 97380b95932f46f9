-- Issue: ARGV = prefix, concert, user, new token, now, window end, max active, keep.
-- Returns {token, 1} for a new token, {token, 0} for the user's live one.
local u, new, now, ends, max, keep = ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
expire_lapsed(now, keep)

local userkey = p .. 'user:' .. u .. ':' .. c
local existing = redis.call('GET', userkey)
if existing then
  local st = redis.call('HGET', p .. 'token:' .. existing, 'st')
  if st == 'WAITING' or st == 'ACTIVE' then
    return {existing, 0}
  end
end

local seq = redis.call('INCR', q .. 'issued')
local status, expires = 'WAITING', ''
-- Admitted at once only when nobody waits (FIFO) and there is room (the cap).
if redis.call('ZCARD', q .. 'waiting') == 0 and redis.call('ZCARD', q .. 'active') < max then
  status, expires = 'ACTIVE', ends
  redis.call('ZADD', q .. 'active', ends, new)
  redis.call('INCR', q .. 'admitted')
else
  redis.call('ZADD', q .. 'waiting', seq, new)
  redis.call('SADD', p .. 'queues', c)
end
redis.call('HSET', p .. 'token:' .. new, 'u', u, 'c', c, 's', seq, 'st', status, 'x', expires)
redis.call('SET', userkey, new)
return {new, 1}
