-- route.lua: one event to one channel becomes a delivery, or joins one
-- (run by services/notifier/notifier_store.c); several routes in one call:
-- the keys and arguments below repeat once per route, in order (6 keys and
-- 11 arguments each; all of one division).
--
-- KEYS[1]  pmo:{<div>}:nt:seen:<evdiv>/<stream id>:<channel> (written by
--          routes into bursts and digests only)
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
--          when quiet hours end), 11 the id of this event's delivery to
--          the channel alone (a single's, a burst's first; a digest already
--          being sent: a delivery of its own under it)
-- Returns  per route 'dup' (routed before: nothing done), 'created',
--          'merged' (joined the open burst), 'digest' (joined the period's
--          digest) or 'late' (the digest was already being sent: a delivery
--          of its own)
--
-- The new deliveries' places in their channels' due sets and the channels'
-- places in the ready set are written once per due set at the end (one
-- ZADD each for the whole call rather than two per route): nothing in this
-- script reads them.
--
-- Everything a re-delivered event could do twice is guarded, in the same
-- script: routing is exactly once per event and channel. A delivery of one
-- event ('single') has an id of that event and channel alone (ARGV[11],
-- also the id of a burst's first delivery and of a late digest's own), so
-- that delivery is its own guard: it lives at least 7 days (as long as it
-- is pending or dead, and 7 days once delivered or discarded), longer
-- than the notifier routes an event at all (--max-event-age, 1 day). It is
-- marked s = 1 (no other notice can join it, so a claim need not close it)
-- and holds its one notice itself (o) instead of in a list. A route that
-- joins a burst or a digest writes the "seen" mark (a day), and every route
-- looks at both: so an event routed before as part of a digest is not sent
-- again alone after the channel's digest is turned off, and the marks of
-- the versions before this one (which wrote "seen" for every route) still
-- count.

-- due set key -> {score, id, score, id, ...}, its channel, its ready key and
-- the earliest due among them, in the order first met. (Numbers go to
-- redis.call as the strings they came as where they can: Redis formats a
-- Lua number with printf, a few percent of its time here.)
local dues, order = {}, {}
local function queue(due_set, ready, channel, due, did, due_text)
  local q = dues[due_set]
  if not q then
    q = {members = {}, channel = channel, ready = ready, first = due}
    dues[due_set] = q
    order[#order + 1] = due_set
  elseif due < q.first then
    q.first = due
  end
  q.members[#q.members + 1] = due_text or due
  q.members[#q.members + 1] = did
end

local function route(k, a)
  local seen, due_set, ready = KEYS[k + 1], KEYS[k + 3], KEYS[k + 4]
  local mode, id, blob, notice = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local channel, maxn, prefix = ARGV[a + 7], tonumber(ARGV[a + 8]), ARGV[a + 9]
  if redis.call('EXISTS', seen, prefix .. ARGV[a + 11]) > 0 then return 'dup' end
  if mode ~= 'single' then redis.call('SET', seen, '1', 'EX', 86400) end
  local now, window = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local due_at = tonumber(ARGV[a + 10])
  local function append(did)
    local key = prefix .. did
    if redis.call('HINCRBY', key, 'n', 1) <= maxn then
      redis.call('RPUSH', key .. ':n', notice)
    end
  end
  local function create(did, due)
    local key = prefix .. did
    if redis.call('EXISTS', key) == 0 then
      redis.call('HSET', key, 'v', '1', 'd', blob, 'n', '0')
      queue(due_set, ready, channel, due, did)
    end
    append(did)
  end
  if mode == 'digest' then
    if redis.call('HEXISTS', prefix .. id, 'a') == 1 then
      create(ARGV[a + 11], now)
      return 'late'
    end
    create(id, due_at)
    return 'digest'
  elseif mode == 'coalesce' then
    local open = redis.call('GET', KEYS[k + 5])
    if open and redis.call('EXISTS', prefix .. open) == 1 and
       redis.call('HEXISTS', prefix .. open, 'a') == 0 then
      append(open)
      return 'merged'
    end
    local due = now
    local until_ms = redis.call('GET', KEYS[k + 6])
    if until_ms then
      due = math.max(now, tonumber(until_ms))
      redis.call('SET', KEYS[k + 6], due + window, 'PX', due - now + window)
    else
      redis.call('SET', KEYS[k + 6], now + window, 'PX', window)
    end
    create(id, due)
    redis.call('SET', KEYS[k + 5], id, 'PX', due - now + window)
    return 'created'
  end
  redis.call('HSET', prefix .. id, 'v', '1', 'd', blob, 'n', '1', 's', '1', 'o', notice)
  queue(due_set, ready, channel, due_at, id, ARGV[a + 10])
  return 'created'
end

local out = {}
for i = 0, #KEYS / 6 - 1 do
  out[i + 1] = route(i * 6, i * 11)
end
for _, due_set in ipairs(order) do
  local q = dues[due_set]
  redis.call('ZADD', due_set, unpack(q.members))
  redis.call('ZADD', q.ready, 'LT', q.first, q.channel)
end
return out
