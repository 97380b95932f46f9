-- Open: ARGV = prefix, concert, now, then every PREQUEUE token in the order
-- drawn for the line. Moves them, in that order, ahead of everyone in the
-- waiting set, at once: a crash leaves the pre-queue or the drawn line, never
-- a mix. Returns how many moved; -1 if the pre-queue is not the one the order
-- was drawn for (a late joiner: draw again).
local now = ARGV[3]
local n = #ARGV - 3
if redis.call('ZCARD', q .. 'prequeue') ~= n then
  return -1
end
for i = 4, #ARGV do
  if not redis.call('ZSCORE', q .. 'prequeue', ARGV[i]) then
    return -1
  end
end
-- Scores -n..-1: before every token issued since (their scores are seqs >= 1).
for i = 4, #ARGV do
  local t = ARGV[i]
  redis.call('ZADD', q .. 'waiting', i - 4 - n, t)
  redis.call('HSET', p .. 'token:' .. t, 'st', 'WAITING')
end
redis.call('DEL', q .. 'prequeue')
redis.call('SET', q .. 'opened', now)
if n > 0 then
  redis.call('SADD', p .. 'queues', c)
end
return n
