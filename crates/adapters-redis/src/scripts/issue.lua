-- Issue: ARGV = prefix, concert, user, new token, now, window end, max active,
-- keep, pre-queue ('1' when the sale has not opened at `now`).
-- Returns {token, 1} for a new token, {token, 0} for the user's live one.
local u, new, now, ends, max, keep, pre =
  ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
expire_lapsed(now, keep)

local userkey = p .. 'user:' .. u .. ':' .. c
local existing = redis.call('GET', userkey)
if existing then
  local st = redis.call('HGET', p .. 'token:' .. existing, 'st')
  if st == 'PREQUEUE' or st == 'WAITING' or st == 'ACTIVE' then
    return {existing, 0}
  end
end

local seq = redis.call('INCR', q .. 'issued')
local status, expires = 'WAITING', ''
if pre == '1' and redis.call('EXISTS', q .. 'opened') == 0 then
  -- Before the opening: into the pre-queue, whose order is drawn later.
  status = 'PREQUEUE'
  redis.call('ZADD', q .. 'prequeue', seq, new)
  redis.call('SADD', p .. 'queues', c)
elseif redis.call('ZCARD', q .. 'waiting') == 0 and redis.call('ZCARD', q .. 'prequeue') == 0
    and redis.call('ZCARD', q .. 'active') < room_cap(max) then
  -- Admitted at once only when nobody waits or is pre-queued (line order),
  -- the line is not paused and there is room (the cap).
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
