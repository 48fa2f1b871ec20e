-- rollup_build.lua: a division's roll-up counters built from the entity
-- snapshots the hub holds (run by services/federation/federation_store.c
-- when lua/apply.lua answers NOROLLUP: entities stored before the hub kept
-- counters).
--
-- KEYS[1]  pmo:{<hub>}:fed:ent:<division>     the snapshots (only counted)
-- KEYS[2]  pmo:{<hub>}:fed:roll:<division>    the counters to build
-- KEYS[3]  pmo:{<hub>}:fed:contrib:<division> "<kind>:<id>" -> what it adds
-- ARGV[1]  the number of snapshots the hub read; ARGV[2] the latest time of
--          one (Unix ms); then pairs: field, what it adds
--          ("<counter>\n<n>\n" each, '' for nothing)
-- Returns  1 (built), 0 (already built), or an error reply when the
--          snapshots changed since they were read (nothing written)
--
-- Nothing else writes the snapshots meanwhile: apply.lua refuses a
-- division whose counters are missing, so the count is only a check.

if redis.call('HEXISTS', KEYS[2], '_v') == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
  return redis.error_reply('rollup build: the snapshots changed')
end
redis.call('DEL', KEYS[2], KEYS[3])
local sums, order = {}, {}
for i = 3, #ARGV, 2 do
  local add = ARGV[i + 1]
  if add ~= '' then
    redis.call('HSET', KEYS[3], ARGV[i], add)
    for k, n in string.gmatch(add, '([^\n]+)\n(%d+)\n') do
      if not sums[k] then order[#order + 1] = k sums[k] = 0 end
      sums[k] = sums[k] + tonumber(n)
    end
  end
end
for _, k in ipairs(order) do
  if sums[k] ~= 0 then redis.call('HSET', KEYS[2], k, string.format('%d', sums[k])) end
end
redis.call('HSET', KEYS[2], '_v', '1', '_u', ARGV[2])
return 1
