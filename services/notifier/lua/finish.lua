-- finish.lua: record deliveries' attempts (run by
-- services/notifier/notifier_store.c), several in one call: the keys and
-- arguments below repeat once per delivery, in order (6 keys and 11
-- arguments each; all of one division).
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
-- Returns  per delivery 'ok', or 'conflict' if the stored version is not
--          the one expected (an operator changed it: only the lease is
--          released)
--
-- The channel's place in the ready set is its earliest due time. A
-- delivery leaving the due set can only make that later, and a ready time
-- too early costs one claim that finds nothing and corrects it; so only a
-- retry, which may make it earlier, looks at the due set's head.

-- Deliveries leave their due set, and join their done or dead set, with one
-- ZREM and one ZADD per set for the whole call, after every delivery's own
-- record is written; a retry's new due time and its channel's ready time
-- come after those. (Redis refuses a script's writes, for memory or on a
-- read-only replica, only at its first write: a call is not cut short.)
local function collector()
  local c = {sets = {}, order = {}}
  function c.add(key, ...)
    local q = c.sets[key]
    if not q then
      q = {}
      c.sets[key] = q
      c.order[#c.order + 1] = key
    end
    for _, v in ipairs({...}) do q[#q + 1] = v end
  end
  return c
end
local removed, added = collector(), collector()
local retries, trims = {}, {}

local function finish(k, a)
  local key, due, ready = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local id, outcome, channel = ARGV[a + 1], ARGV[a + 4], ARGV[a + 6]
  local h = redis.call('HMGET', key, 'v', 's')
  local v, single = h[1], h[2]
  if v ~= ARGV[a + 2] then
    if v then redis.call('HSET', key, 'l', '0') end
    return 'conflict'
  end
  -- (numbers as strings where they came so: Redis formats a Lua number
  -- with printf)
  redis.call('HSET', key, 'v', tonumber(v) + 1, 'd', ARGV[a + 3], 'l', '0')
  if outcome == 'retry' then
    retries[#retries + 1] = {due, ready, channel, ARGV[a + 5], id}
    return 'ok'
  end
  removed.add(due, id)
  if outcome == 'delivered' then
    added.add(KEYS[k + 4], ARGV[a + 7], id)
    redis.call('EXPIRE', key, ARGV[a + 8])
    if not single then redis.call('EXPIRE', key .. ':n', ARGV[a + 8]) end
    if ARGV[a + 11] == '1' then
      trims[#trims + 1] = {KEYS[k + 4], tonumber(ARGV[a + 7]) - tonumber(ARGV[a + 8]) * 1000}
    end
  else
    added.add(KEYS[k + 5], ARGV[a + 7], id)
    if ARGV[a + 9] ~= '' then
      redis.call('XADD', KEYS[k + 6], '*', 'type', ARGV[a + 9], 'data', ARGV[a + 10])
    end
  end
  return 'ok'
end

local out = {}
for i = 0, #KEYS / 6 - 1 do
  out[i + 1] = finish(i * 6, i * 11)
end
for _, key in ipairs(removed.order) do
  redis.call('ZREM', key, unpack(removed.sets[key]))
end
for _, key in ipairs(added.order) do
  redis.call('ZADD', key, unpack(added.sets[key]))
end
for _, t in ipairs(trims) do
  redis.call('ZREMRANGEBYSCORE', t[1], '-inf', t[2])
end
for _, r in ipairs(retries) do
  local due, ready, channel, at, id = r[1], r[2], r[3], r[4], r[5]
  redis.call('ZADD', due, at, id)
  local head = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
  redis.call('ZADD', ready, head[2], channel)
end
return out
