-- Shared by the queue scripts. ARGV[1] is the key prefix, ARGV[2] the concert.
-- Times arrive as strings of milliseconds and are stored as given, never
-- re-formatted by Lua (whose numbers are doubles).
local p, c = ARGV[1], ARGV[2]
local q = p .. 'queue:' .. c .. ':'

-- ACTIVE tokens whose window ended by `now` become EXPIRED and leave the
-- active set; their hash is kept for `keep` ms so late polls still read it.
local function expire_lapsed(now, keep)
  local lapsed = redis.call('ZRANGEBYSCORE', q .. 'active', '-inf', now)
  for _, t in ipairs(lapsed) do
    redis.call('HSET', p .. 'token:' .. t, 'st', 'EXPIRED')
    redis.call('PEXPIRE', p .. 'token:' .. t, keep)
  end
  if #lapsed > 0 then
    redis.call('ZREMRANGEBYSCORE', q .. 'active', '-inf', now)
  end
end

-- The admin's controls (`{p}queue:{c}:control`): while paused the cap is 0;
-- a stored `max` replaces the configured one.
local function room_cap(default)
  local ctl = redis.call('HMGET', q .. 'control', 'paused', 'max')
  if ctl[1] == '1' then
    return 0
  end
  return tonumber(ctl[2] or default) or default
end
