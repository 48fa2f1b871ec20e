-- finish.lua: record a delivery's attempt (run by
-- services/notifier/notifier_store.c).
--
-- KEYS[1]  pmo:{<div>}:nt:dl:<id>
-- KEYS[2]  pmo:{<div>}:nt:due:<channel>
-- KEYS[3]  pmo:{<div>}:nt:ready
-- KEYS[4]  pmo:{<div>}:nt:done:<channel>
-- KEYS[5]  pmo:{<div>}:nt:dead:<channel>
-- KEYS[6]  pmo:{<div>}:events
-- ARGV     1 delivery id, 2 version expected, 3 the updated delivery blob,
--          4 outcome ('delivered', 'retry' or 'dead'), 5 due again (ms, on
--          retry), 6 channel id, 7 now (ms), 8 how long to keep a delivered
--          one (s), 9 event type ('' for none), 10 event blob (appended to the
--          stream when a delivery goes dead), 11 '1' to also drop delivered
--          ids older than 8 from the done set (the caller asks now and then)
-- Returns  'ok', or 'conflict' if the stored version is not the one
--          expected (an operator changed it: only the lease is released)
--
-- The channel's place in the ready set is its earliest due time. A
-- delivery leaving the due set can only make that later, and a ready time
-- too early costs one claim that finds nothing and corrects it; so only a
-- retry, which may make it earlier, looks at the due set's head.

local h = redis.call('HMGET', KEYS[1], 'v', 's')
local v, single = h[1], h[2]
if v ~= ARGV[2] then
  if v then redis.call('HSET', KEYS[1], 'l', 0) end
  return 'conflict'
end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[3], 'l', 0)
local outcome, now, keep = ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[8])
if outcome == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
  local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  redis.call('ZADD', KEYS[3], head[2], ARGV[6])
  return 'ok'
end
redis.call('ZREM', KEYS[2], ARGV[1])
if outcome == 'delivered' then
  redis.call('ZADD', KEYS[4], now, ARGV[1])
  redis.call('EXPIRE', KEYS[1], keep)
  if not single then redis.call('EXPIRE', KEYS[1] .. ':n', keep) end
  if ARGV[11] == '1' then
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - keep * 1000)
  end
else
  redis.call('ZADD', KEYS[5], now, ARGV[1])
  if ARGV[9] ~= '' then
    redis.call('XADD', KEYS[6], '*', 'type', ARGV[9], 'data', ARGV[10])
  end
end
return 'ok'
