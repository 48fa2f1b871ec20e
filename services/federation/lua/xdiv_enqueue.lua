-- xdiv_enqueue.lua: the hub queues cross-division deliveries (run by
-- services/federation/federation_store.c).
--
-- KEYS     pairs q, d per delivery: pmo:{<hub>}:fed:xdiv:q:<division> (zset
--          delivery key -> time queued) and pmo:{<hub>}:fed:xdiv:d:<division>
--          (hash delivery key -> XdivDelivery) of the division it is for
-- ARGV[1]  the time queued (score); then per delivery its key and its blob
-- Returns  how many were queued
--
-- HSETNX makes queueing exactly once: a delivery already queued under its
-- key (a push resent) is left as it is.

local queued = 0
for i = 1, #KEYS, 2 do
  if redis.call('HSETNX', KEYS[i + 1], ARGV[i + 1], ARGV[i + 2]) == 1 then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[i + 1])
    queued = queued + 1
  end
end
return queued
