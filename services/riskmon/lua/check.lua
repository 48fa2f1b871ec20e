-- check.lua: the version check of a transaction of commits without
-- markers (the time-rule sweep's; run by services/riskmon/riskmon_store.c
-- between WATCH and MULTI, see "Transactions" there).
--
-- KEYS     the records the commits put with a version check, then last
--          the division's fence key, pmo:{<div>}:rm:fence
-- ARGV     the version each record is expected to hold ('0' = absent)
-- Returns  0 when every record holds its expected version; otherwise
--          {index of the first that does not, its version} after writing
--          the fence (INCR): the connection WATCHes it, so the EXEC that
--          follows is refused and nothing of the transaction is written.
--
-- It writes nothing else, and nothing at all when the versions hold.

local fence = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local v = redis.call('HGET', KEYS[i], 'v') or '0'
  if v ~= ARGV[i] then
    redis.call('INCR', fence)
    return {i, v}
  end
end
return 0
