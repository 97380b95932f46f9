-- Line: KEYS = the concert's waiting and pre-queue sets. Returns {waiting, prequeued}.
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
