-- finish.lua: record a delivery's attempt (run by
-- services/notifier/notifier_store.c).
--
-- KEYS[1]  pmo:{<div>}:nt:dl:<id>
-- KEYS[2]  pmo:{<div>}:nt:due:<channel>
-- KEYS[3]  pmo:{<div>}:nt:ready
-- KEYS[4]  pmo:{<div>}:nt:lease
-- KEYS[5]  pmo:{<div>}:nt:done:<channel>
-- KEYS[6]  pmo:{<div>}:nt:dead:<channel>
-- KEYS[7]  pmo:{<div>}:events
-- ARGV     1 delivery id, 2 version expected, 3 the updated delivery blob,
--          4 outcome ('delivered', 'retry' or 'dead'), 5 due again (ms, on
--          retry), 6 channel id, 7 now (ms), 8 how long to keep a delivered
--          one (s), 9 event type ('' for none), 10 event blob (appended to the
--          stream when a delivery goes dead)
-- Returns  'ok', or 'conflict' if the stored version is not the one
--          expected (an operator changed it: only the lease is released)

local v = redis.call('HGET', KEYS[1], 'v')
redis.call('ZREM', KEYS[4], ARGV[1])
if v ~= ARGV[2] then return 'conflict' end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[3])
local outcome, now, keep = ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[8])
if outcome == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  if outcome == 'delivered' then
    redis.call('ZADD', KEYS[5], now, ARGV[1])
    redis.call('EXPIRE', KEYS[1], keep)
    redis.call('EXPIRE', KEYS[1] .. ':n', keep)
    redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - keep * 1000)
  else
    redis.call('ZADD', KEYS[6], now, ARGV[1])
    if ARGV[9] ~= '' then
      redis.call('XADD', KEYS[7], '*', 'type', ARGV[9], 'data', ARGV[10])
    end
  end
end
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #head == 0 then redis.call('ZREM', KEYS[3], ARGV[6])
else redis.call('ZADD', KEYS[3], head[2], ARGV[6]) end
return 'ok'
