#!/usr/bin/env bash
# tests/deploy/test_help_env.sh SOURCE_DIR BUILD_DIR: every environment
# variable a binary reads (a PMO_* name in its sources, or a getenv) is
# named in its --help.
set -euo pipefail
SOURCE="$1" BUILD="$2"
status=0
# check BINARY SOURCES...: the names read in SOURCES against BINARY --help
check() {
    local binary="$1" help names name
    shift
    help="$("$BUILD/$binary" --help 2>&1)" || true
    names="$(grep -ohE '"PMO_[A-Z0-9_]+"|getenv \("[A-Z0-9_]+"\)' "$@" | grep -oE '[A-Z][A-Z0-9_]+' | sort -u)"
    [[ -n $names ]] || { echo "test_help_env: no variables found for $binary" >&2; status=1; return; }
    for name in $names; do
        if ! grep -q "$name" <<<"$help"; then
            echo "test_help_env: $binary reads $name but its --help does not name it" >&2
            status=1
        fi
    done
    echo "test_help_env: $(basename "$binary"): $(wc -w <<<"$names") variables named"
}
check services/pmoctl/pmoctl "$SOURCE"/services/pmoctl/*.c
check services/registry/pmo-registry "$SOURCE/services/registry/main.c"
check services/allocator/pmo-allocator "$SOURCE/services/allocator/main.c"
check services/riskmon/pmo-riskmon "$SOURCE/services/riskmon/main.c"
check services/notifier/pmo-notifier "$SOURCE/services/notifier/main.c"
check services/planner/pmo-planner "$SOURCE/services/planner/main.c"
check services/gateway/pmo-gateway "$SOURCE/services/gateway/main.c"
check services/federation/pmo-hub "$SOURCE/services/federation/main_hub.c"
check services/federation/pmo-uplink "$SOURCE/services/federation/main_uplink.c"
exit "$status"
