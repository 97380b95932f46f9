-- Find: ARGV = prefix, token. Returns nil for an unknown token, else
-- {user, concert, status, window end or '', rank or -1, milli-rate}.
local p, t = ARGV[1], ARGV[2]
local h = redis.call('HMGET', p .. 'token:' .. t, 'u', 'c', 'st', 'x')
if not h[1] then
  return nil
end
local rank, milli = -1, '0'
if h[3] == 'WAITING' then
  local q = p .. 'queue:' .. h[2] .. ':'
  rank = redis.call('ZRANK', q .. 'waiting', t) or -1
  milli = redis.call('HGET', q .. 'rate', 'milli') or '0'
end
return {h[1], h[2], h[3], h[4] or '', rank, milli}
