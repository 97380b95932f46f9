-- Open: ARGV = base, concert, now, then every PREQUEUE token in the order
-- drawn for the line. Moves them, in that order, ahead of everyone in the
-- waiting set, at once: a crash leaves the pre-queue or the drawn line, never
-- a mix. Returns how many moved; -1 if the pre-queue is not the one the order
-- was drawn for (a late joiner: draw again).
local now = ARGV[3]
local n = #ARGV - 3
if redis.call('ZCARD', K.prequeue) ~= n then
  return -1
end
for i = 4, #ARGV do
  if not redis.call('ZSCORE', K.prequeue, ARGV[i]) then
    return -1
  end
end
-- Scores -n..-1: before every token issued since (their scores are seqs >= 1).
for i = 4, #ARGV do
  local t = ARGV[i]
  redis.call('ZADD', K.waiting, i - 4 - n, t)
  redis.call('HSET', token_key(t), 'st', 'WAITING')
end
redis.call('DEL', K.prequeue)
redis.call('SET', K.opened, now)
return n
