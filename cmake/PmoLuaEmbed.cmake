# Writes a Lua script as a C string; run by pmo_embed_lua (PmoLua.cmake):
#   cmake -DNAME=<name> -DSOURCE=<file.lua> -DLABEL=<path for the comments>
#         -DOUTPUT=<build dir>/pmo_lua_<name> -P PmoLuaEmbed.cmake
# writes OUTPUT.c (`const char pmo_lua_<name>[]`, one literal piece per
# line of the file) and OUTPUT.h. CMake only: no xxd.
cmake_minimum_required(VERSION 3.18)

foreach(var NAME SOURCE LABEL OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "PmoLuaEmbed.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ ${SOURCE} text)
# The last line's newline is put back after the split into pieces, so the
# string ends as the file does without an empty "" piece.
set(tail "")
if(text MATCHES "\n$")
  string(REGEX REPLACE "\n$" "" text "${text}")
  set(tail "\\n")
endif()
# Escape for a C string literal. `?` too: -std=c17 still reads trigraphs.
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "?" "\\?" text "${text}")
string(REPLACE "\t" "\\t" text "${text}")
string(REPLACE "\r" "\\r" text "${text}")
string(REPLACE "\n" "\\n\"\n    \"" text "${text}")

string(TOUPPER ${NAME} guard)
set(note "generated from ${LABEL} by cmake/PmoLuaEmbed.cmake; edit the .lua file")
file(WRITE ${OUTPUT}.h
     "/*  pmo_lua_${NAME}.h: ${note}. */\n"
     "#ifndef PMO_LUA_${guard}_H_INCLUDED\n"
     "#define PMO_LUA_${guard}_H_INCLUDED\n\n"
     "//  The text of ${LABEL} (its header says what it does, its KEYS, ARGV and reply).\n"
     "extern const char pmo_lua_${NAME}[];\n\n"
     "#endif\n")
file(WRITE ${OUTPUT}.c
     "/*  pmo_lua_${NAME}.c: ${note}. */\n"
     "#include \"pmo_lua_${NAME}.h\"\n\n"
     "const char pmo_lua_${NAME}[] =\n"
     "    \"${text}${tail}\";\n")
