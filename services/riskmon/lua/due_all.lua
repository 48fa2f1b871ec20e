-- due_all.lua: make every project of a division due for the time rules at
-- once (run by services/riskmon/riskmon_store.c, riskmon_store_due_all).
--
-- KEYS[1]  pmo:{<div>}:rm:pjs, the division's projects (zset)
-- KEYS[2]  pmo:{<div>}:rm:due, projects by when their time rules are due
-- ARGV[1]  the time to score them with
-- Returns  the number of projects rescored

local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], ARGV[1], id) end
return #ids
