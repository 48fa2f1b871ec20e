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

local n = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local bucket, legacy = ARGV[3], ARGV[4]
local arity = {P=3, W=2, Z=2, z=1, X=2}
local commits, marks = {}, {}
local i = 5
for c = 1, n do
  local nm, no = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if not nm or not no then return redis.error_reply('riskmon batch: bad commit') end
  i = i + 2
  local cm = {marks = {}, ops = {}}
  for m = 1, nm do
    if ARGV[i] == nil then return redis.error_reply('riskmon batch: short marks') end
    cm.marks[m] = ARGV[i]
    marks[#marks + 1] = ARGV[i]
    i = i + 1
  end
  for o = 1, no do
    local code = ARGV[i]
    local a = arity[code]
    if not a then return redis.error_reply('riskmon batch: bad op ' .. tostring(code)) end
    local k = KEYS[tonumber(ARGV[i + 1])]
    if not k then return redis.error_reply('riskmon batch: bad key') end
    local op = {code, k}
    for j = 1, a do
      if ARGV[i + 1 + j] == nil then return redis.error_reply('riskmon batch: short op') end
      op[j + 2] = ARGV[i + 1 + j]
    end
    cm.ops[o] = op
    i = i + a + 2
  end
  commits[c] = cm
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
local vers, puts, order, zs, zorder, fresh, out = {}, {}, {}, {}, {}, {}, {}
for c, cm in ipairs(commits) do
  local verdict = nil
  for _, m in ipairs(cm.marks) do
    if done[m] then verdict = {'dup'} break end
  end
  if not verdict then
    for _, op in ipairs(cm.ops) do
      if op[1] == 'P' then
        local v = vers[op[2]]
        if v == nil then
          v = redis.call('HGET', op[2], 'v') or '0'
          vers[op[2]] = v
        end
        if v ~= op[3] then verdict = {'conflict', op[2], v} break end
      end
    end
  end
  if verdict then
    out[c] = verdict
  else
    local r = {'ok'}
    for _, op in ipairs(cm.ops) do
      local code, k = op[1], op[2]
      if code == 'P' or code == 'W' then
        local v, d = op[3], op[4]
        if code == 'P' then v, d = op[4], op[5] end
        if not puts[k] then order[#order + 1] = k end
        puts[k] = {v, d}
        vers[k] = v
      elseif code == 'X' then
        r[#r + 1] = redis.call('XADD', k, '*', 'type', op[3], 'data', op[4])
      else
        local z = zs[k]
        if not z then z = {} zs[k] = z zorder[#zorder + 1] = k end
        if code == 'Z' then z[op[4]] = op[3] else z[op[3]] = false end
      end
    end
    for _, m in ipairs(cm.marks) do
      done[m] = true
      fresh[#fresh + 1] = m
      fresh[#fresh + 1] = '1'
    end
    out[c] = r
  end
end
for _, k in ipairs(order) do
  redis.call('HSET', k, 'v', puts[k][1], 'd', puts[k][2])
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
