-- broken.lua: a script with a syntax error on line 5, on purpose. The test
-- lua_check_rejects runs the build's check (luac5.1 -p, cmake/PmoLua.cmake)
-- on it and expects the file and line in the error.
local n = tonumber(ARGV[1])
if n > 0 thn
  return n
end
return 0
