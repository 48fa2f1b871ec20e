# PmoLua: the Redis scripts live in .lua files beside the C that runs them.
# The build checks each one with luac5.1 (Redis 7 runs Lua 5.1) and embeds
# it in the target as a C string, so a syntax error fails the build with the
# file and line instead of surfacing as an error reply at run time.
#
#   pmo_embed_lua(<target> <name> <file.lua> [<name> <file.lua> ...])
#
# For each pair, generates (at build time, again whenever the .lua changes)
# <current build dir>/lua/pmo_lua_<name>.c, defining
# `const char pmo_lua_<name>[]` (the file's text, verbatim), and
# pmo_lua_<name>.h declaring it; adds both to <target> and their folder to
# its private include path. Generation runs `luac5.1 -p` first.

find_program(PMO_LUAC luac5.1)
if(NOT PMO_LUAC)
  message(FATAL_ERROR "luac5.1 not found: the build syntax-checks the Redis Lua scripts "
                      "with it. Install the Debian package lua5.1 (apt-get install lua5.1), "
                      "or run ./deploy/pmo build, which installs every package pmo needs.")
endif()

set(PMO_LUA_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/PmoLuaEmbed.cmake)

function(pmo_embed_lua target)
  set(pairs ${ARGN})
  list(LENGTH pairs n)
  math(EXPR odd "${n} % 2")
  if(n EQUAL 0 OR odd)
    message(FATAL_ERROR "pmo_embed_lua(${target} ...): expected <name> <file.lua> pairs")
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/lua)
  while(pairs)
    list(POP_FRONT pairs name file)
    get_filename_component(src ${file} ABSOLUTE)
    file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${src})
    set(out ${dir}/pmo_lua_${name})
    add_custom_command(
      OUTPUT ${out}.c ${out}.h
      COMMAND ${PMO_LUAC} -p ${src}
      COMMAND ${CMAKE_COMMAND} -DNAME=${name} -DSOURCE=${src} -DLABEL=${rel} -DOUTPUT=${out} -P
              ${PMO_LUA_EMBED_SCRIPT}
      DEPENDS ${src} ${PMO_LUA_EMBED_SCRIPT}
      COMMENT "Checking and embedding Lua script ${rel}"
      VERBATIM)
    target_sources(${target} PRIVATE ${out}.c ${out}.h)
  endwhile()
  target_include_directories(${target} PRIVATE ${dir})
endfunction()
