-- batch.lua: several commits of one division in one script (run by
-- services/riskmon/riskmon_store.c for stream entries and the time rules).
--
-- KEYS     every key the commits write (each once)
-- ARGV[1]  the number of commits
-- ARGV[2]  the applied markers' time to live, seconds
-- ARGV[3]  the prefix of the markers' hashes, pmo:{<div>}:rm:applied: (less the day)
-- ARGV[4]  the prefix of the markers' keys as pmo_commit spells them (less the id)
-- ARGV[5..] then per commit: its marker count, its op count, its markers
--          (request ids), then its ops: code, KEYS index, arguments:
--            P i expect version blob   put with a version check
--            W i version blob          put without one
--            Z i score member          ZADD
--            z i member                ZREM
--            X i type data             XADD (fields type and data)
-- Returns  one answer per commit, in order: {'ok', stream id of each of its
--          events...}, {'dup'} (a marker already set) or {'conflict', key,
--          stored version}; an error reply for malformed arguments (nothing
--          written)
--
-- Applied markers ("this stream entry's effect on this project is done")
-- are fields of one hash per day, pmo:{<div>}:rm:applied:<day>, written
-- with one HSET per script and expiring a day after the marker's time to
-- live: a batch of 64 commits checks its markers with a few HMGETs and
-- sets them with one HSET, where one key per marker cost a GET and a SET
-- each. The day comes from Redis's clock, so every replica agrees on it;
-- those keys are built in the script from ARGV[3] and carry the same
-- division hash tag as KEYS (one slot). Markers an older version wrote as
-- keys (pmo_commit's idempotency key, ARGV[4] + id) are looked up too,
-- so an upgrade in the middle of a redelivery applies nothing twice.
--
-- Like pmo_commit's script (common/lua/commit.lua) it parses and checks
-- everything before writing, and writes only with calls that cannot fail
-- on well-formed input: Redis does not roll a script back.
--
-- Each commit is judged in order on the state the commits before it left:
-- a marker already set -> 'dup'; a put whose stored version is not the one
-- expected -> 'conflict'; both refuse the whole commit. An accepted
-- commit's events are appended at once (their ids are its answer); its
-- puts, sorted-set changes and markers are folded and written at the end
-- (the last put of a key wins, as the last ZADD/ZREM of a member does),
-- so a project touched by several commits of the script is written once.
--
-- Lean on purpose (the time-rule sweep runs thousands of commits through
-- it, and Redis's Lua is most of its cost): no table per op; the ops are
-- checked once and then read from ARGV by position, a put is remembered
-- as the position of its version, and a key written is one HSET of its
-- version and data.

local n = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local bucket, legacy = ARGV[3], ARGV[4]
local arity = {P=3, W=2, Z=2, z=1, X=2}
local nargv = #ARGV
-- Per commit: where its markers start, how many, where its ops start,
-- how many; every op checked here, so the passes below need not
local at_m, n_m, at_o, n_o, marks = {}, {}, {}, {}, {}
local i = 5
for c = 1, n do
  local nm, no = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if not nm or not no then return redis.error_reply('riskmon batch: bad commit') end
  i = i + 2
  if i + nm - 1 > nargv then return redis.error_reply('riskmon batch: short marks') end
  at_m[c], n_m[c] = i, nm
  for m = i, i + nm - 1 do marks[#marks + 1] = ARGV[m] end
  i = i + nm
  at_o[c], n_o[c] = i, no
  for _ = 1, no do
    local a = arity[ARGV[i]]
    if not a then return redis.error_reply('riskmon batch: bad op ' .. tostring(ARGV[i])) end
    if not KEYS[tonumber(ARGV[i + 1])] then return redis.error_reply('riskmon batch: bad key') end
    if i + 1 + a > nargv then return redis.error_reply('riskmon batch: short op') end
    i = i + a + 2
  end
end
local done, day = {}, 0
if #marks > 0 then
  day = math.floor(tonumber(redis.call('TIME')[1]) / 86400)
  for s = 1, #marks, 1000 do
    local e = math.min(s + 999, #marks)
    for d = day - math.ceil(ttl / 86400), day do
      local got = redis.call('HMGET', bucket .. d, unpack(marks, s, e))
      for j = s, e do if got[j - s + 1] then done[marks[j]] = true end end
    end
    local old = {}
    for j = s, e do old[j - s + 1] = legacy .. marks[j] end
    local got = redis.call('MGET', unpack(old))
    for j = s, e do if got[j - s + 1] then done[marks[j]] = true end end
  end
end
-- vers: a key's version as the commits so far leave it; put: the ARGV
-- position of its last put's version (its data follows)
local vers, put, order, zs, zorder, fresh, out = {}, {}, {}, {}, {}, {}, {}
for c = 1, n do
  local verdict = nil
  for m = at_m[c], at_m[c] + n_m[c] - 1 do
    if done[ARGV[m]] then verdict = {'dup'} break end
  end
  local o0, no = at_o[c], n_o[c]
  if not verdict then
    local o = o0
    for _ = 1, no do
      local code = ARGV[o]
      if code == 'P' then
        local k = KEYS[tonumber(ARGV[o + 1])]
        local v = vers[k]
        if v == nil then
          v = redis.call('HGET', k, 'v') or '0'
          vers[k] = v
        end
        if v ~= ARGV[o + 2] then verdict = {'conflict', k, v} break end
      end
      o = o + arity[code] + 2
    end
  end
  if verdict then
    out[c] = verdict
  else
    local r = {'ok'}
    local o = o0
    for _ = 1, no do
      local code = ARGV[o]
      local k = KEYS[tonumber(ARGV[o + 1])]
      if code == 'X' then
        r[#r + 1] = redis.call('XADD', k, '*', 'type', ARGV[o + 2], 'data', ARGV[o + 3])
        o = o + 4
      elseif code == 'P' or code == 'W' then
        local v = code == 'P' and o + 3 or o + 2
        if not put[k] then order[#order + 1] = k end
        put[k] = v
        vers[k] = ARGV[v]
        o = v + 2
      else
        local z = zs[k]
        if not z then z = {} zs[k] = z zorder[#zorder + 1] = k end
        if code == 'Z' then
          z[ARGV[o + 3]] = ARGV[o + 2]
          o = o + 4
        else
          z[ARGV[o + 2]] = false
          o = o + 3
        end
      end
    end
    for m = at_m[c], at_m[c] + n_m[c] - 1 do
      done[ARGV[m]] = true
      fresh[#fresh + 1] = ARGV[m]
      fresh[#fresh + 1] = '1'
    end
    out[c] = r
  end
end
for _, k in ipairs(order) do
  local v = put[k]
  redis.call('HSET', k, 'v', ARGV[v], 'd', ARGV[v + 1])
end
for _, k in ipairs(zorder) do
  local add, rem = {}, {}
  for m, s in pairs(zs[k]) do
    if s then add[#add + 1] = s add[#add + 1] = m else rem[#rem + 1] = m end
  end
  for s = 1, #add, 2000 do redis.call('ZADD', k, unpack(add, s, math.min(s + 1999, #add))) end
  for s = 1, #rem, 1000 do redis.call('ZREM', k, unpack(rem, s, math.min(s + 999, #rem))) end
end
if #fresh > 0 then
  for s = 1, #fresh, 2000 do
    redis.call('HSET', bucket .. day, unpack(fresh, s, math.min(s + 1999, #fresh)))
  end
  redis.call('EXPIRE', bucket .. day, ttl + 86400)
end
return out
