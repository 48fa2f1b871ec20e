-- commit.lua: commits, each with its event (run by common/pmo_commit.c).
--
-- Writes everything one request changes in one division (entities with
-- their version checks, unique-field claims, index entries, the domain
-- event and the request's reply), or nothing of it; for one request, or
-- for several requests of one division at once (group commit: one script
-- call, one entry in the AOF, one fsync and one WAIT for all of them).
--
-- KEYS      every commit's keys, one commit after the other; a commit's
--           first key is its idempotency key, pmo:{<div>}:idem:<request id>
-- ARGV[1]   the number of commits; then per commit the KEYS index before
--           its first key (its base), the number of its operations, and
--           per operation its code, its key's index counted from the base
--           (1 = the idempotency key) and the code's arguments:
--             V i expect                 key's version (hash field v, absent = 0) must be expect
--             P i expect version blob    the same check, then v = version, d = blob
--             C i field value            field must be absent or hold value; then set it
--                                        (as it is checked: HSETNX, undone if a later
--                                        check of the same commit fails)
--             U i field                  delete field (give a claim up)
--             Z i score member           ZADD
--             z i member                 ZREM
--             X i type data              XADD the event (fields type and data)
--             R 1 reply ttl              keep reply under the idempotency key for ttl seconds
--                                        (at most one per commit; stored before the checks
--                                        and deleted if one fails)
-- Returns   one answer per commit, in order: {'ok', the event's stream id
--           or ''}, or, with nothing of that commit written: {'dup', the
--           stored reply} when its idempotency key exists (a retried
--           request; its expiry is set again, unchanged, so that the
--           caller's WAIT covers it: pmo_commit_confirm); {'conflict', key,
--           stored version}; {'taken', key .. ' ' .. field, its holder}.
--           An error reply, with nothing written, for malformed arguments.
--
-- Redis runs a script atomically, and with AOF the whole script is one entry
-- in the log, so a crash never leaves half of it behind. But Redis does not
-- roll back a script that fails half-way: writes done before a runtime
-- error stay. So the script first checks the form of every commit, and
-- then, commit by commit, checks its conditions (seeing the commits before
-- it written) and only then writes it, with calls that cannot fail on
-- well-formed input. Claims are the one write made while checking: each is
-- a field set only if absent, and a commit whose later check fails deletes
-- the fields it set, so that it leaves nothing behind. The same holds for
-- the reply: it is stored first (SET NX GET: one call that both finds a
-- retried request and keeps the reply), and deleted again if a check
-- fails. The operations are read from ARGV by position: no table per
-- operation.

local arity = {V = 2, P = 4, C = 3, U = 2, Z = 3, z = 2, X = 3, R = 3}
local ncommits = tonumber(ARGV[1])
if not ncommits or ncommits < 1 then
  return redis.error_reply('pmo commit: bad commit count ' .. tostring(ARGV[1]))
end
local bases, counts, starts, replies = {}, {}, {}, {}
local i = 2
for c = 1, ncommits do
  local base, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if not base or not n or not KEYS[base + 1] then
    return redis.error_reply('pmo commit: bad commit header')
  end
  bases[c], counts[c], starts[c] = base, n, i + 2
  i = i + 2
  for _ = 1, n do
    local code = ARGV[i]
    local a = arity[code]
    if not a then return redis.error_reply('pmo commit: bad op ' .. tostring(code)) end
    if ARGV[i + a] == nil then return redis.error_reply('pmo commit: short op ' .. code) end
    local k = tonumber(ARGV[i + 1])
    if not k or k < 1 or not KEYS[base + k] then return redis.error_reply('pmo commit: bad key') end
    if code == 'R' then
      local ttl = tonumber(ARGV[i + 3])
      if k ~= 1 or replies[c] or not ttl or ttl < 1 or ttl ~= math.floor(ttl) then
        return redis.error_reply('pmo commit: bad reply')
      end
      replies[c] = i
    end
    i = i + a + 1
  end
end
if ARGV[i] ~= nil then return redis.error_reply('pmo commit: arguments after the last commit') end

local answers = {}
for c = 1, ncommits do
  local base = bases[c]
  local idem = KEYS[base + 1]
  local r = replies[c]
  local prev
  if r then
    prev = redis.call('SET', idem, ARGV[r + 2], 'NX', 'GET', 'EX', ARGV[r + 3])
  else
    prev = redis.call('GET', idem)
  end
  if prev then
    local ttl = redis.call('PTTL', idem)
    if ttl > 0 then redis.call('PEXPIRE', idem, ttl) end
    answers[c] = {'dup', prev}
  else
    -- The checks; a claim is made as it is checked (HSETNX: one call
    -- where a check and a later write took two), and the claims this
    -- commit made are given up again if a later check fails
    local failed, claimed = nil, {}
    local p = starts[c]
    for _ = 1, counts[c] do
      local code = ARGV[p]
      if code == 'V' or code == 'P' then
        local key = KEYS[base + tonumber(ARGV[p + 1])]
        local v = redis.call('HGET', key, 'v') or '0'
        if v ~= ARGV[p + 2] then
          failed = {'conflict', key, v}
          break
        end
      elseif code == 'C' then
        local key = KEYS[base + tonumber(ARGV[p + 1])]
        if redis.call('HSETNX', key, ARGV[p + 2], ARGV[p + 3]) == 1 then
          claimed[#claimed + 1] = p
        else
          local cur = redis.call('HGET', key, ARGV[p + 2])
          if cur ~= ARGV[p + 3] then
            failed = {'taken', key .. ' ' .. ARGV[p + 2], cur}
            break
          end
        end
      end
      p = p + arity[code] + 1
    end
    if failed then
      for _, q in ipairs(claimed) do
        redis.call('HDEL', KEYS[base + tonumber(ARGV[q + 1])], ARGV[q + 2])
      end
      if r then redis.call('DEL', idem) end
      answers[c] = failed
    else
      local sid = ''
      p = starts[c]
      for _ = 1, counts[c] do
        local code = ARGV[p]
        local key = KEYS[base + tonumber(ARGV[p + 1])]
        if code == 'P' then redis.call('HSET', key, 'v', ARGV[p + 3], 'd', ARGV[p + 4])
        elseif code == 'U' then redis.call('HDEL', key, ARGV[p + 2])
        elseif code == 'Z' then redis.call('ZADD', key, ARGV[p + 2], ARGV[p + 3])
        elseif code == 'z' then redis.call('ZREM', key, ARGV[p + 2])
        elseif code == 'X' then sid = redis.call('XADD', key, '*', 'type', ARGV[p + 2], 'data', ARGV[p + 3])
        end
        p = p + arity[code] + 1
      end
      answers[c] = {'ok', sid}
    end
  end
end
return answers
