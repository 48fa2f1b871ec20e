-- xdiv_done.lua: the hub forgets a delivery an uplink has handled, turning
-- a refused request into a refusal for its requester (run by
-- services/federation/federation_store.c).
--
-- KEYS     q, d of the division that handled it (as in xdiv_enqueue.lua);
--          with a refusal also q_origin, d_origin of the requester's division
-- ARGV[1]  the delivery key; with a refusal also the refusal's key, its
--          score (time queued) and its blob
-- Returns  1 if the delivery was still queued (the refusal, if any, is then
--          queued once), 0 if it was already gone (nothing done)

local had = redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if had == 1 and #KEYS == 4 then
  if redis.call('HSETNX', KEYS[4], ARGV[2], ARGV[4]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
  end
end
return had
