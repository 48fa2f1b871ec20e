#!/usr/bin/env bash
# test_check_layers.sh: check_layers.sh passes a tree that keeps the rules
# and names each kind of violation in one that does not.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{common,lib/orgtree,services/registry,services/allocator}
echo '#include "pmo.pb-c.h"' >"$tree/common/pmo_util.c"
echo '#include "events.pb-c.h"' >>"$tree/common/pmo_util.c"
echo '#include "registry.pb-c.h"' >"$tree/lib/orgtree/orgtree.c"
touch "$tree/lib/orgtree/orgtree.h"
touch "$tree/services/registry/registry_model.h" "$tree/services/allocator/allocator_model.h"
printf '#include "allocator_model.h"\n#include "registry.pb-c.h"\n#include "orgtree.h"\n' \
    >"$tree/services/allocator/allocator_server.c"
echo 'target_link_libraries(allocator_lib PUBLIC pmo_common pmo_orgtree)' \
    >"$tree/services/allocator/CMakeLists.txt"

out="$(bash "$here/check_layers.sh" "$tree")" || {
    echo "FAIL: a tree that keeps the rules was refused:"
    echo "$out"
    exit 1
}

# Now break each rule once
echo '#include "riskmon.pb-c.h"' >>"$tree/common/pmo_util.c"
echo '#include "orgtree.h"' >>"$tree/common/pmo_util.c"
echo '#include "registry_model.h"' >>"$tree/services/allocator/allocator_server.c"
echo 'target_link_libraries(allocator_lib PUBLIC registry_lib)' \
    >>"$tree/services/allocator/CMakeLists.txt"
echo '#include "allocator_model.h"' >>"$tree/lib/orgtree/orgtree.c"

if out="$(bash "$here/check_layers.sh" "$tree")"; then
    echo "FAIL: violations were not found:"
    echo "$out"
    exit 1
fi
expected=(
    "common/pmo_util.c:3: common/ includes the service protocol riskmon.pb-c.h"
    "common/pmo_util.c:4: common/ includes orgtree.h from lib/ or services/"
    "services/allocator/allocator_server.c:4: services/allocator includes registry_model.h of services/registry"
    "services/allocator/CMakeLists.txt:2: services/allocator links registry_lib"
    "lib/orgtree/orgtree.c:2: lib/orgtree includes allocator_model.h of services/allocator"
    "check_layers: 5 violation(s) of ARCHITECTURE.md"
)
for line in "${expected[@]}"; do
    if ! grep -qxF "$line" <<<"$out"; then
        echo "FAIL: expected the line: $line"
        echo "got:"
        echo "$out"
        exit 1
    fi
done
echo "test_check_layers: ok"
