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
-- ARGV[1]   the number of commits; then per commit its layout and its
--           operations' arguments. The layout is a byte string: the KEYS
--           index before the commit's first key (its base, 3 bytes, most
--           significant first), then 4 bytes per operation: its code and
--           its key's index counted from the base (3 bytes; 1 = the
--           idempotency key). The arguments follow, operation by operation:
--             V expect                 key's version (hash field v, absent = 0) must be expect
--             P expect version blob    the same check, then v = version, d = blob
--             C field value            field must be absent or hold value; then set it
--                                      (as it is checked: HSETNX, undone if a later
--                                      check of the same commit fails)
--             U field                  delete field (give a claim up)
--             Z score member           ZADD
--             z member                 ZREM
--             X type data              XADD the event (fields type and data)
--             R reply ttl              keep reply under the idempotency key (index 1) for
--                                      ttl seconds (at most one per commit; stored before
--                                      the checks and deleted if one fails)
--           Codes and key indexes are bytes, not decimal arguments: Lua
--           reads them with string.byte instead of tonumber (strtod), and
--           each operation is two arguments fewer for Redis to parse and
--           put in the script's ARGV.
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

local KEYS, ARGV, call, byte, char, tonumber, floor =
  KEYS, ARGV, redis.call, string.byte, string.char, tonumber, math.floor
local V, P, C, U, Z, z, X, R = 86, 80, 67, 85, 90, 122, 88, 82 -- the codes' bytes
local arity = {[V] = 1, [P] = 3, [C] = 2, [U] = 1, [Z] = 2, [z] = 1, [X] = 2, [R] = 2}
local ncommits = tonumber(ARGV[1])
if not ncommits or ncommits < 1 or ncommits ~= floor(ncommits) then
  return redis.error_reply('pmo commit: bad commit count ' .. tostring(ARGV[1]))
end
local nkeys = #KEYS
local bases, replies, nexts = {}, {}, {} -- per commit: its base, R's arguments, the next layout
local i = 2
for c = 1, ncommits do
  local layout = ARGV[i]
  local len = layout and #layout or 0
  if len < 3 or len % 4 ~= 3 then return redis.error_reply('pmo commit: bad commit header') end
  local b1, b2, b3 = byte(layout, 1, 3)
  local base = b1 * 65536 + b2 * 256 + b3
  if base >= nkeys then return redis.error_reply('pmo commit: bad commit header') end
  bases[c] = base
  local a = i + 1
  for j = 4, len, 4 do
    local code, k1, k2, k3 = byte(layout, j, j + 3)
    local n = arity[code]
    if not n then return redis.error_reply('pmo commit: bad op ' .. char(code)) end
    local k = k1 * 65536 + k2 * 256 + k3
    if k < 1 or base + k > nkeys then return redis.error_reply('pmo commit: bad key') end
    if ARGV[a + n - 1] == nil then return redis.error_reply('pmo commit: short op ' .. char(code)) end
    if code == R then
      local ttl = tonumber(ARGV[a + 1])
      if k ~= 1 or replies[c] or not ttl or ttl < 1 or ttl ~= floor(ttl) then
        return redis.error_reply('pmo commit: bad reply')
      end
      replies[c] = a
    end
    a = a + n
  end
  i = a
  nexts[c] = a
end
if ARGV[i] ~= nil then return redis.error_reply('pmo commit: arguments after the last commit') end

local answers = {}
i = 2
for c = 1, ncommits do
  local layout = ARGV[i]
  local len = #layout
  local base = bases[c]
  local idem = KEYS[base + 1]
  local r = replies[c]
  local prev
  if r then
    prev = call('SET', idem, ARGV[r], 'NX', 'GET', 'EX', ARGV[r + 1])
  else
    prev = call('GET', idem)
  end
  if prev then
    local ttl = call('PTTL', idem)
    if ttl > 0 then call('PEXPIRE', idem, ttl) end
    answers[c] = {'dup', prev}
  else
    -- The checks; a claim is made as it is checked (HSETNX: one call
    -- where a check and a later write took two), and the claims this
    -- commit made are given up again if a later check fails
    local failed, claimed
    local a = i + 1
    for j = 4, len, 4 do
      local code, k1, k2, k3 = byte(layout, j, j + 3)
      if code == V or code == P then
        local key = KEYS[base + k1 * 65536 + k2 * 256 + k3]
        local v = call('HGET', key, 'v') or '0'
        if v ~= ARGV[a] then
          failed = {'conflict', key, v}
          break
        end
      elseif code == C then
        local key = KEYS[base + k1 * 65536 + k2 * 256 + k3]
        if call('HSETNX', key, ARGV[a], ARGV[a + 1]) == 1 then
          claimed = claimed or {}
          claimed[#claimed + 1] = key
          claimed[#claimed + 1] = ARGV[a]
        else
          local cur = call('HGET', key, ARGV[a])
          if cur ~= ARGV[a + 1] then
            failed = {'taken', key .. ' ' .. ARGV[a], cur}
            break
          end
        end
      end
      a = a + arity[code]
    end
    if failed then
      if claimed then
        for q = 1, #claimed, 2 do call('HDEL', claimed[q], claimed[q + 1]) end
      end
      if r then call('DEL', idem) end
      answers[c] = failed
    else
      local sid = ''
      a = i + 1
      for j = 4, len, 4 do
        local code, k1, k2, k3 = byte(layout, j, j + 3)
        if code == P then
          call('HSET', KEYS[base + k1 * 65536 + k2 * 256 + k3], 'v', ARGV[a + 1], 'd', ARGV[a + 2])
        elseif code == X then
          sid = call('XADD', KEYS[base + k1 * 65536 + k2 * 256 + k3], '*', 'type', ARGV[a],
                     'data', ARGV[a + 1])
        elseif code == Z then
          call('ZADD', KEYS[base + k1 * 65536 + k2 * 256 + k3], ARGV[a], ARGV[a + 1])
        elseif code == U then
          call('HDEL', KEYS[base + k1 * 65536 + k2 * 256 + k3], ARGV[a])
        elseif code == z then
          call('ZREM', KEYS[base + k1 * 65536 + k2 * 256 + k3], ARGV[a])
        end
        a = a + arity[code]
      end
      answers[c] = {'ok', sid}
    end
  end
  i = nexts[c]
end
return answers
