-- Find: KEYS = the token's hash, its concert's waiting set and rate hash
-- (one hash tag). Returns nil for an unknown token, else
-- {user, concert, status, window end or '', rank or -1, milli-rate}.
local t = ARGV[1]
local h = redis.call('HMGET', KEYS[1], 'u', 'c', 'st', 'x')
if not h[1] then
  return nil
end
local rank, milli = -1, '0'
if h[3] == 'WAITING' then
  rank = redis.call('ZRANK', KEYS[2], t) or -1
  milli = redis.call('HGET', KEYS[3], 'milli') or '0'
end
return {h[1], h[2], h[3], h[4] or '', rank, milli}
