-- claim.lua: lease a channel's due deliveries for sending (run by
-- services/notifier/notifier_store.c).
--
-- KEYS[1]  pmo:{<div>}:nt:due:<channel>
-- KEYS[2]  pmo:{<div>}:nt:ready
-- ARGV     1 now (ms), 2 lease end (ms), 3 most to claim, 4 channel id,
--          5 delivery key prefix, 6 most notices to return per delivery
-- Returns  per leased delivery {id, version, blob, events carried, notices}
--
-- Leased deliveries stay in the due set scored by the lease's end, so a
-- sender that dies mid-attempt leaves them due again when the lease ends;
-- the delivery's own l holds the lease's end (shown as "in flight"). A
-- delivery that notices may still join (a burst, a digest: no s) is closed
-- to them (a = 1); one of a single event (s) holds its notice in o, the
-- others in the list <key>:n. A due id whose delivery is gone is dropped.

local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
local leased = {}
for _, id in ipairs(ids) do
  local key = ARGV[5] .. id
  local h = redis.call('HMGET', key, 'v', 'd', 'n', 's', 'o')
  if not h[2] then
    redis.call('ZREM', KEYS[1], id)
  else
    leased[#leased + 1] = ARGV[2]
    leased[#leased + 1] = id
    local notices
    if h[4] then
      redis.call('HSET', key, 'l', ARGV[2])
      notices = {h[5]}
    else
      redis.call('HSET', key, 'a', '1', 'l', ARGV[2])
      notices = redis.call('LRANGE', key .. ':n', 0, tonumber(ARGV[6]) - 1)
    end
    out[#out + 1] = {id, h[1], h[2], h[3] or '0', notices}
  end
end
-- every lease in one command
if #leased > 0 then redis.call('ZADD', KEYS[1], unpack(leased)) end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #head == 0 then redis.call('ZREM', KEYS[2], ARGV[4])
else redis.call('ZADD', KEYS[2], head[2], ARGV[4]) end
return out
