-- Lines: ARGV = prefix. Returns {concert, waiting, prequeued, ...} for every
-- concert with someone WAITING or PREQUEUE.
local p = ARGV[1]
local out = {}
for _, c in ipairs(redis.call('SMEMBERS', p .. 'queues')) do
  local q = p .. 'queue:' .. c .. ':'
  table.insert(out, c)
  table.insert(out, redis.call('ZCARD', q .. 'waiting'))
  table.insert(out, redis.call('ZCARD', q .. 'prequeue'))
end
return out
