-- Lines: ARGV = prefix. Returns {concert, waiting, concert, waiting, ...}.
local p = ARGV[1]
local out = {}
for _, c in ipairs(redis.call('SMEMBERS', p .. 'queues')) do
  table.insert(out, c)
  table.insert(out, redis.call('ZCARD', p .. 'queue:' .. c .. ':waiting'))
end
return out
