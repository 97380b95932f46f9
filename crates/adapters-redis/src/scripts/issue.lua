-- Issue: ARGV = base, concert, user, new token, now, window end, max active,
-- keep, pre-queue ('1' when the sale has not opened at `now`).
-- Returns {token, 1, status} for a new token, {token, 0, status} for the
-- user's live one. (The caller adds the concert to the `queues` index when
-- the status is PREQUEUE or WAITING: that global key is not touched here.)
local u, new, now, ends, max, keep, pre =
  ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
expire_lapsed(now, keep)

local userkey = q .. 'user:' .. u
local existing = redis.call('GET', userkey)
if existing then
  local st = redis.call('HGET', token_key(existing), 'st')
  if st == 'PREQUEUE' or st == 'WAITING' or st == 'ACTIVE' then
    return {existing, 0, st}
  end
end

local seq = redis.call('INCR', K.issued)
local status, expires = 'WAITING', ''
if pre == '1' and redis.call('EXISTS', K.opened) == 0 then
  -- Before the opening: into the pre-queue, whose order is drawn later.
  status = 'PREQUEUE'
  redis.call('ZADD', K.prequeue, seq, new)
elseif redis.call('ZCARD', K.waiting) == 0 and redis.call('ZCARD', K.prequeue) == 0
    and redis.call('ZCARD', K.active) < room_cap(max) then
  -- Admitted at once only when nobody waits or is pre-queued (line order),
  -- the line is not paused and there is room (the cap).
  status, expires = 'ACTIVE', ends
  redis.call('ZADD', K.active, ends, new)
  redis.call('INCR', K.admitted)
else
  redis.call('ZADD', K.waiting, seq, new)
end
redis.call('HSET', token_key(new), 'u', u, 'c', c, 's', seq, 'st', status, 'x', expires)
redis.call('SET', userkey, new)
return {new, 1, status}
