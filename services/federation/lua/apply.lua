-- apply.lua: the hub applies a push of one division's events (run by
-- services/federation/federation_store.c).
--
-- KEYS[1]  pmo:{<hub>}:fed:hw               division -> last stream id applied
-- KEYS[2]  pmo:{<hub>}:fed:ent:<division>   "<kind>:<id>" -> latest snapshot
-- KEYS[3]  pmo:{<hub>}:fed:ver:<division>   "<kind>:<id>" -> version held
-- KEYS[4]  pmo:{<hub>}:fed:types:<division> event type -> events applied
-- KEYS[5]  pmo:{<hub>}:fed:spoke:<spoke>    the spoke's counters
-- ARGV[1]  the division; then five per event, in stream order: stream id,
--          field ("<kind>:<id>", '' when the event holds no entity), the
--          entity's version (0: always the latest), the event blob, its type
-- Returns  {applied, duplicates, the division's mark after the push}
--
-- Stream ids are compared as numbers ("<ms>-<seq>"): the batch is in
-- stream order, so the mark only moves forward and a resend (everything at
-- or below the mark) changes nothing but the duplicate counter. An entity
-- is replaced unless the hub holds a newer version of it.

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if not ms then return 0, 0 end
  return tonumber(ms), tonumber(seq)
end
local function after(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams > bms or (ams == bms and aseq > bseq)
end
local division = ARGV[1]
local mark = redis.call('HGET', KEYS[1], division) or '0-0'
local applied, dup = 0, 0
local last_ms = 0
for i = 2, #ARGV, 5 do
  local id = ARGV[i]
  if after(id, mark) then
    local field = ARGV[i + 1]
    if field ~= '' then
      local v = tonumber(ARGV[i + 2])
      local held = tonumber(redis.call('HGET', KEYS[3], field) or '0')
      if v == 0 or v >= held then
        redis.call('HSET', KEYS[2], field, ARGV[i + 3])
        redis.call('HSET', KEYS[3], field, v)
      end
    end
    redis.call('HINCRBY', KEYS[4], ARGV[i + 4], 1)
    mark = id
    applied = applied + 1
  else
    dup = dup + 1
  end
end
if applied > 0 then
  redis.call('HSET', KEYS[1], division, mark)
  redis.call('HSET', KEYS[5], 'last_event_id', mark)
end
redis.call('HINCRBY', KEYS[5], 'applied', applied)
redis.call('HINCRBY', KEYS[5], 'duplicates', dup)
return {applied, dup, mark}
