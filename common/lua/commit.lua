-- commit.lua: one commit, one event (run by common/pmo_commit.c).
--
-- Writes everything one request changes in one division (entities with
-- their version checks, unique-field claims, index entries, the domain
-- event and the request's reply), or nothing.
--
-- KEYS[1]   the request's idempotency key, pmo:{<div>}:idem:<request id>
-- KEYS[2..] every other key the operations name (each once)
-- ARGV[1]   the number of operations; then per operation its code, the
--           KEYS index of its key, and the code's arguments:
--             V i expect                 key's version (hash field v, absent = 0) must be expect
--             P i expect version blob    the same check, then v = version, d = blob
--             C i field value            field must be absent or hold value; then set it
--             U i field                  delete field (give a claim up)
--             Z i score member           ZADD
--             z i member                 ZREM
--             X i type data              XADD the event (fields type and data)
--             R 1 reply ttl              keep reply under KEYS[1] for ttl seconds
-- Returns   {'ok', the event's stream id or ''}, or, with nothing written:
--           {'dup', the stored reply} when KEYS[1] exists (a retried request;
--           its expiry is set again, unchanged, for pmo_commit_confirm);
--           {'conflict', key, stored version}; {'taken', key .. ' ' .. field,
--           its holder}; an error reply for malformed arguments.
--
-- Redis runs a script atomically, and with AOF the whole script is one entry
-- in the log, so a crash never leaves half of it behind. But Redis does not
-- roll back a script that fails half-way: writes done before a runtime
-- error stay. So the script first parses every operation and checks every
-- argument and condition, and only then writes, with calls that cannot
-- fail on well-formed input.

local idem = KEYS[1]
local prev = redis.call('GET', idem)
if prev then
  -- Rewritten as it is (the same expiry) so that the caller's WAIT covers
  -- it: the first commit's replicas may not have confirmed it
  local ttl = redis.call('PTTL', idem)
  if ttl > 0 then redis.call('PEXPIRE', idem, ttl) end
  return {'dup', prev}
end
local n = tonumber(ARGV[1])
local ops = {}
local i = 2
local arity = {V=2, P=4, C=3, U=2, Z=3, z=2, X=3, R=3}
for k = 1, n do
  local code = ARGV[i]
  local a = arity[code]
  if not a then return redis.error_reply('pmo commit: bad op ' .. tostring(code)) end
  local op = {code}
  for j = 1, a do
    if ARGV[i + j] == nil then return redis.error_reply('pmo commit: short op ' .. code) end
    op[j + 1] = ARGV[i + j]
  end
  if not KEYS[tonumber(op[2])] then return redis.error_reply('pmo commit: bad key') end
  ops[k] = op
  i = i + a + 1
end
for _, op in ipairs(ops) do
  local c = op[1]
  if c == 'V' or c == 'P' then
    local key = KEYS[tonumber(op[2])]
    local v = redis.call('HGET', key, 'v') or '0'
    if v ~= op[3] then return {'conflict', key, v} end
  elseif c == 'C' then
    local key = KEYS[tonumber(op[2])]
    local cur = redis.call('HGET', key, op[3])
    if cur and cur ~= op[4] then return {'taken', key .. ' ' .. op[3], cur} end
  end
end
local sid = ''
for _, op in ipairs(ops) do
  local c = op[1]
  local key = KEYS[tonumber(op[2])]
  if c == 'P' then redis.call('HSET', key, 'v', op[4], 'd', op[5])
  elseif c == 'C' then redis.call('HSET', key, op[3], op[4])
  elseif c == 'U' then redis.call('HDEL', key, op[3])
  elseif c == 'Z' then redis.call('ZADD', key, op[3], op[4])
  elseif c == 'z' then redis.call('ZREM', key, op[3])
  elseif c == 'X' then sid = redis.call('XADD', key, '*', 'type', op[3], 'data', op[4])
  elseif c == 'R' then redis.call('SET', idem, op[3], 'EX', op[4])
  end
end
return {'ok', sid}
