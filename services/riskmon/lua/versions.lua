-- versions.lua: every project record of a division with its version, in
-- one step (run by services/riskmon/riskmon_store.c,
-- riskmon_store_project_versions, for the portfolio's rows).
--
-- KEYS[1]  pmo:{<div>}:rm:pjs, the division's projects (zset)
-- ARGV[1]  the prefix of their records, pmo:{<div>}:rm:pj: (less the id);
--          same hash tag as KEYS[1], so one slot
-- Returns  {id, version, id, version, ...} in the set's order; version ""
--          for a record that is absent

local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for i, id in ipairs(ids) do
  out[2 * i - 1] = id
  out[2 * i] = redis.call('HGET', ARGV[1] .. id, 'v') or ''
end
return out
