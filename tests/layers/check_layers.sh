#!/usr/bin/env bash
# check_layers.sh ROOT: the rules of ARCHITECTURE.md that a machine can check.
#   1. A service includes no other service's headers and links no other
#      service's library (services talk over the wire, through proto/).
#   2. common/ includes no service's protocol (only pmo.proto's envelope and
#      events.proto's events) and nothing from lib/ or services/.
#   3. A library under lib/ includes nothing from services/.
# Prints every violation as "file:line: what" and exits 1 if there is any.
set -euo pipefail

root="${1:?usage: check_layers.sh ROOT}"
cd "$root"
services=(registry allocator riskmon notifier gateway federation pmoctl)
service_protos="registry|allocator|riskmon|notifier|gateway|federation"
violations=0

say() {
    echo "$1"
    violations=$((violations + 1))
}

# The folder under services/ that holds header $1, other than $2; empty if none.
owner_of() {
    local header="$1" self="$2" svc
    for svc in "${services[@]}"; do
        [[ $svc == "$self" ]] && continue
        if [[ -n $(find "services/$svc" -name "$header" -print -quit 2>/dev/null) ]]; then
            echo "$svc"
            return
        fi
    done
}

# included FILE: the quoted includes of FILE, as "line header"
included() {
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$1" |
        sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1 \2/' || true
}

sources() {
    [[ -d $1 ]] || return 0
    find "$1" \( -name build -o -name 'build-*' -o -name node_modules \) -prune -o \
        -type f \( -name '*.c' -o -name '*.h' \) -print | sort
}

# 1. services
for svc in "${services[@]}"; do
    [[ -d services/$svc ]] || continue
    while IFS= read -r file; do
        while read -r line header; do
            [[ -n $header ]] || continue
            base="${header##*/}"
            # Its own header wins over a same-named one elsewhere
            [[ -n $(find "services/$svc" -name "$base" -print -quit) ]] && continue
            other="$(owner_of "$base" "$svc")"
            [[ -n $other ]] && say "$file:$line: services/$svc includes $base of services/$other"
        done < <(included "$file")
    done < <(sources "services/$svc")
    if [[ -f services/$svc/CMakeLists.txt ]]; then
        for other in "${services[@]}"; do
            [[ $other == "$svc" ]] && continue
            n="$(grep -n "target_link_libraries.*\b${other}_lib\b" "services/$svc/CMakeLists.txt" | cut -d: -f1 | head -1 || true)"
            [[ -n $n ]] && say "services/$svc/CMakeLists.txt:$n: services/$svc links ${other}_lib"
        done
    fi
done

# 2. common
while IFS= read -r file; do
    while read -r line header; do
        [[ -n $header ]] || continue
        if [[ $header =~ ^($service_protos)\.pb-c\.h$ ]]; then
            say "$file:$line: common/ includes the service protocol $header"
        elif [[ -n $(find services lib -name "${header##*/}" -print -quit 2>/dev/null) &&
            ! -e common/${header##*/} ]]; then
            say "$file:$line: common/ includes $header from lib/ or services/"
        fi
    done < <(included "$file")
done < <(sources common)

# 3. lib
while IFS= read -r file; do
    while read -r line header; do
        [[ -n $header ]] || continue
        lib="${file#lib/}"
        lib="lib/${lib%%/*}"
        [[ -n $(find "$lib" -name "${header##*/}" -print -quit) ]] && continue
        other="$(owner_of "${header##*/}" "")"
        [[ -n $other ]] && say "$file:$line: $lib includes ${header##*/} of services/$other"
    done < <(included "$file")
done < <(sources lib)

if ((violations > 0)); then
    echo "check_layers: $violations violation(s) of ARCHITECTURE.md"
    exit 1
fi
echo "check_layers: ok"
