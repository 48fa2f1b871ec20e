-- apply.lua: the hub applies a push of one division's events (run by
-- services/federation/federation_store.c).
--
-- KEYS[1]  pmo:{<hub>}:fed:hw               division -> last stream id applied
-- KEYS[2]  pmo:{<hub>}:fed:ent:<division>   "<kind>:<id>" -> latest snapshot
-- KEYS[3]  pmo:{<hub>}:fed:ver:<division>   "<kind>:<id>" -> version held
-- KEYS[4]  pmo:{<hub>}:fed:types:<division> event type -> events applied
-- KEYS[5]  pmo:{<hub>}:fed:spoke:<spoke>    the spoke's counters
-- KEYS[6]  pmo:{<hub>}:fed:roll:<division>  counter -> value: the roll-up
-- KEYS[7]  pmo:{<hub>}:fed:contrib:<division> "<kind>:<id>" -> what it adds
-- ARGV[1]  the division; then seven per event, in stream order: stream id,
--          field ("<kind>:<id>", '' when the event holds no entity), the
--          entity's version (0: always the latest), the event blob, its
--          type, what the entity adds to the roll-up ("<counter>\n<n>\n"
--          each, from federation_rollup_contribution) and the event's time
-- Returns  {applied, duplicates, the division's mark after the push}; an
--          error "NOROLLUP" (nothing written) when the division holds
--          entities but no counters yet: the hub builds them from the
--          snapshots (lua/rollup_build.lua) and sends the push again
--
-- Stream ids are compared as numbers ("<ms>-<seq>"): the batch is in
-- stream order, so the mark only moves forward and a resend (everything at
-- or below the mark) changes nothing but the duplicate counter. An entity
-- is replaced unless the hub holds a newer version of it.
--
-- The roll-up is counted as entities are replaced: the counters lose what
-- the entity's previous snapshot added (kept in KEYS[7]) and gain what the
-- new one adds, so a replay of the same snapshot changes nothing and the
-- counters always equal a recomputation from the snapshots held. A counter
-- that reaches zero is removed (a recomputation would not list it). Field
-- "_v" marks counters that are complete; "_u" is the latest time of an
-- entity held (Unix ms).

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
local function count(s, sign)
  for k, n in string.gmatch(s, '([^\n]+)\n(%d+)\n') do
    if redis.call('HINCRBY', KEYS[6], k, sign * tonumber(n)) == 0 then
      redis.call('HDEL', KEYS[6], k)
    end
  end
end
if redis.call('HEXISTS', KEYS[6], '_v') == 0 then
  if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('NOROLLUP') end
  redis.call('HSET', KEYS[6], '_v', '1')
end
local updated = tonumber(redis.call('HGET', KEYS[6], '_u') or '0')
local division = ARGV[1]
local mark = redis.call('HGET', KEYS[1], division) or '0-0'
local applied, dup = 0, 0
for i = 2, #ARGV, 7 do
  local id = ARGV[i]
  if after(id, mark) then
    local field = ARGV[i + 1]
    if field ~= '' then
      local v = tonumber(ARGV[i + 2])
      local held = tonumber(redis.call('HGET', KEYS[3], field) or '0')
      if v == 0 or v >= held then
        redis.call('HSET', KEYS[2], field, ARGV[i + 3])
        redis.call('HSET', KEYS[3], field, v)
        local old = redis.call('HGET', KEYS[7], field) or ''
        local new = ARGV[i + 5]
        if old ~= new then
          count(old, -1)
          count(new, 1)
          if new == '' then
            redis.call('HDEL', KEYS[7], field)
          else
            redis.call('HSET', KEYS[7], field, new)
          end
        end
        local t = tonumber(ARGV[i + 6]) or 0
        if t > updated then
          updated = t
          redis.call('HSET', KEYS[6], '_u', ARGV[i + 6])
        end
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
