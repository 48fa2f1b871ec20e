-- route.lua: one event to one channel becomes a delivery, or joins one
-- (run by services/notifier/notifier_store.c).
--
-- KEYS[1]  pmo:{<div>}:nt:seen:<evdiv>/<stream id>:<channel>
-- KEYS[2]  pmo:{<div>}:nt:dl:<id>, the new delivery (the script builds
--          delivery keys from ARGV[9] instead)
-- KEYS[3]  pmo:{<div>}:nt:due:<channel>
-- KEYS[4]  pmo:{<div>}:nt:ready
-- KEYS[5]  pmo:{<div>}:nt:open:<channel>:<project>, the burst still open
-- KEYS[6]  pmo:{<div>}:nt:burst:<channel>:<project>, when the burst window ends
-- ARGV     1 mode ('single', 'digest' or 'coalesce'), 2 delivery id,
--          3 delivery blob, 4 notice blob, 5 now (ms), 6 coalescing window
--          (ms), 7 channel id, 8 most notices kept per delivery, 9 delivery
--          key prefix, 10 due (ms; digest: the period's end; single: now, or
--          when quiet hours end), 11 fallback id
--          (digest already being sent: a delivery of its own)
-- Returns  'dup' (routed before: nothing done), 'created', 'merged' (joined
--          the open burst), 'digest' (joined the period's digest) or 'late'
--          (the digest was already being sent: a delivery of its own)
--
-- Everything a re-delivered event could do twice is guarded by "seen",
-- written in the same script: routing is exactly once per event and channel.
-- A delivery of one event ('single') has an id of that event and channel
-- alone, so "seen" guards it too; it is marked s = 1 (no other notice can
-- join it, so a claim need not close it) and holds its one notice itself
-- (o) instead of in a list. Its "seen" lives a day, as long as the
-- notifier routes an event at all (--max-event-age, 1 day).

if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then return 'dup' end
local mode, now, window = ARGV[1], tonumber(ARGV[5]), tonumber(ARGV[6])
local maxn, prefix, channel = tonumber(ARGV[8]), ARGV[9], ARGV[7]
local function append(id)
  local key = prefix .. id
  if redis.call('HINCRBY', key, 'n', 1) <= maxn then
    redis.call('RPUSH', key .. ':n', ARGV[4])
  end
end
local function create(id, due)
  local key = prefix .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'v', 1, 'd', ARGV[3], 'n', 0)
    redis.call('ZADD', KEYS[3], due, id)
    redis.call('ZADD', KEYS[4], 'LT', due, channel)
  end
  append(id)
end
if mode == 'digest' then
  local key = prefix .. ARGV[2]
  if redis.call('HEXISTS', key, 'a') == 1 then
    create(ARGV[11], now)
    return 'late'
  end
  create(ARGV[2], tonumber(ARGV[10]))
  return 'digest'
elseif mode == 'coalesce' then
  local open = redis.call('GET', KEYS[5])
  if open and redis.call('EXISTS', prefix .. open) == 1 and
     redis.call('HEXISTS', prefix .. open, 'a') == 0 then
    append(open)
    return 'merged'
  end
  local due = now
  local until_ms = redis.call('GET', KEYS[6])
  if until_ms then
    due = math.max(now, tonumber(until_ms))
    redis.call('SET', KEYS[6], due + window, 'PX', due - now + window)
  else
    redis.call('SET', KEYS[6], now + window, 'PX', window)
  end
  create(ARGV[2], due)
  redis.call('SET', KEYS[5], ARGV[2], 'PX', due - now + window)
  return 'created'
end
redis.call('HSET', prefix .. ARGV[2], 'v', 1, 'd', ARGV[3], 'n', 1, 's', 1, 'o', ARGV[4])
local due = tonumber(ARGV[10])
redis.call('ZADD', KEYS[3], due, ARGV[2])
redis.call('ZADD', KEYS[4], 'LT', due, channel)
return 'created'
