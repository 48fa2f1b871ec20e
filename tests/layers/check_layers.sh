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
services=(registry allocator riskmon notifier planner gateway federation pmoctl)
service_protos="registry|allocator|riskmon|notifier|planner|gateway|federation"
violations=0

say() {
    echo "$1"
    violations=$((violations + 1))
}

# Where each header lives, found once: owner[header] = the service folders
# holding one of that name, lib_header[header] = 1 if a library holds one
declare -A owner=() lib_header=()
for svc in "${services[@]}"; do
    [[ -d services/$svc ]] || continue
    while IFS= read -r header; do
        owner[$header]+="$svc "
    done < <(find "services/$svc" \( -name build -o -name node_modules \) -prune -o \
        -type f -name '*.h' -printf '%f\n')
done
if [[ -d lib ]]; then
    while IFS= read -r header; do
        lib_header[$header]=1
    done < <(find lib -type f -name '*.h' -printf '%f\n')
fi

# The service folder other than $2 that holds header $1; empty if none, or
# if $2 holds one of that name itself (its own wins).
owner_of() {
    local header="$1" self="$2" svc
    [[ -n $self && " ${owner[$header]:-} " == *" $self "* ]] && return
    for svc in ${owner[$header]:-}; do
        if [[ $svc != "$self" ]]; then
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
        elif [[ -n ${owner[${header##*/}]:-}${lib_header[${header##*/}]:-} &&
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
        [[ -e $lib/${header##*/} || -n $(find "$lib" -name "${header##*/}" -print -quit) ]] && continue
        other="$(owner_of "${header##*/}" "")"
        [[ -n $other ]] && say "$file:$line: $lib includes ${header##*/} of services/$other"
    done < <(included "$file")
done < <(sources lib)

if ((violations > 0)); then
    echo "check_layers: $violations violation(s) of ARCHITECTURE.md"
    exit 1
fi
echo "check_layers: ok"
