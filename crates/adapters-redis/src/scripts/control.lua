-- Control: ARGV = base, concert, now, paused ('1', '0' or '' to keep),
-- max active ('' to keep). Returns {paused, max or '', prequeued, waiting, active}.
local now, paused, max = ARGV[3], ARGV[4], ARGV[5]
if paused ~= '' then
  redis.call('HSET', K.control, 'paused', paused)
end
if max ~= '' then
  redis.call('HSET', K.control, 'max', max)
end
local ctl = redis.call('HMGET', K.control, 'paused', 'max')
return {
  ctl[1] or '0',
  ctl[2] or '',
  redis.call('ZCARD', K.prequeue),
  redis.call('ZCARD', K.waiting),
  redis.call('ZCOUNT', K.active, '(' .. now, '+inf'),
}
