#!/usr/bin/env bash
# measure.sh [ROOT]: the figures ARCHITECTURE.md's rules are judged by:
# copies of each shared rule, the largest production C files and the
# longest functions (a function's body runs from a "{" to a "}" alone in
# column 0, as clang-format lays them out; tables are not counted).
set -euo pipefail
cd "${1:-.}"
prod=()
for dir in common lib services; do
    [[ -d $dir ]] && prod+=("$dir")
done

count() { # count LABEL PATTERN [EXCLUDE]: code lines of production C matching PATTERN
    local n
    n="$( (grep -rEn --include='*.c' --include='*.h' "$2" "${prod[@]}" || true) |
        (grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|/?\*)' || true) |
        { if [[ -n ${3:-} ]]; then grep -vE "$3" || true; else cat; fi; } | wc -l)"
    printf '%-48s %s\n' "$1" "$n"
}

echo "copies of shared rules (production code):"
count "access rule (path-contains definitions)" '^bool [a-z_]*path_contains \(.*\)$'
count "FAIL macro definitions" '#define FAIL\('
count "requests for org units outside the registry" 'kind = PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT;' '^services/registry/'
count "stream key spellings (\"}:events\")" '\}:events"'
count "default endpoints (71xx) outside pmo_endpoints.h" 'tcp://(127\.0\.0\.1|0\.0\.0\.0):71[0-9][0-9]' '^common/pmo_endpoints\.h:'
count "Lua in C string literals (redis.call)" 'redis\.call' '\.lua:'


echo
echo "largest production C files (lines):"
find "${prod[@]}" -name '*.c' -print0 | xargs -0 wc -l | grep -v ' total$' | sort -rn | head -5

echo
echo "longest functions (body lines):"
find "${prod[@]}" -name '*.c' -print0 | xargs -0 awk '
    FNR == 1 { sig = ""; start = 0 }
    /^\{$/ { start = FNR; name = sig }
    /^\}$/ && start { printf "%6d  %s:%d  %s\n", FNR - start + 1, FILENAME, start, name; start = 0 }
    /^[A-Za-z_]/ && !/^(static )?(const )?[a-z_]+ [a-z_]+\[/ { sig = $0; sub(/ \(.*/, "", sig); n = split(sig, w, /[ *]+/); sig = w[n] }
' | sort -rn | head -8
