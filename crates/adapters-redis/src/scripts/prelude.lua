-- Shared by the per-concert scripts. KEYS are the concert's fixed keys (see
-- keys.rs, CONCERT_KEYS), all under one hash tag, so the script runs on the
-- one Redis Cluster node that holds the concert. ARGV[1] is the key base
-- (`{p}queue:{c}:`, same tag) for the per-token and per-user keys, ARGV[2]
-- the concert. Times arrive as strings of milliseconds and are stored as
-- given, never re-formatted by Lua (whose numbers are doubles).
local K = {
  waiting = KEYS[1], prequeue = KEYS[2], active = KEYS[3], control = KEYS[4],
  issued = KEYS[5], admitted = KEYS[6], rate = KEYS[7], opened = KEYS[8],
}
local q, c = ARGV[1], ARGV[2]
local function token_key(t)
  return q .. 'token:' .. t
end

-- ACTIVE tokens whose window ended by `now` become EXPIRED and leave the
-- active set; their hash is kept for `keep` ms so late polls still read it.
local function expire_lapsed(now, keep)
  local lapsed = redis.call('ZRANGEBYSCORE', K.active, '-inf', now)
  for _, t in ipairs(lapsed) do
    redis.call('HSET', token_key(t), 'st', 'EXPIRED')
    redis.call('PEXPIRE', token_key(t), keep)
  end
  if #lapsed > 0 then
    redis.call('ZREMRANGEBYSCORE', K.active, '-inf', now)
  end
end

-- The admin's controls: while paused the cap is 0; a stored `max` replaces
-- the configured one.
local function room_cap(default)
  local ctl = redis.call('HMGET', K.control, 'paused', 'max')
  if ctl[1] == '1' then
    return 0
  end
  return tonumber(ctl[2] or default) or default
end
