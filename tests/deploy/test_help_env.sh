#!/usr/bin/env bash
# tests/deploy/test_help_env.sh SOURCE_DIR BUILD_DIR: every environment
# variable a binary reads (a PMO_* name in its sources, or a getenv of a
# literal name) is named in its --help. Its sources: the service's own .c
# files (for the federation's two binaries, the shared ones and its own
# main), the common header whose option macro every service expands
# (pmo_service.h), and the libraries it links that read the environment
# (lib/portio: TMPDIR). Every binary the build makes (add_executable under
# services/) must be checked here, and the check is shown to fail on a
# name no --help gives before anything is believed.
set -euo pipefail
SOURCE="$1" BUILD="$2"
status=0
checked=()
# names SOURCES...: the environment variables read in SOURCES
names() {
    grep -ohE '"PMO_[A-Z0-9_]+"|getenv \("[A-Z0-9_]+"\)' "$@" | grep -oE '[A-Z][A-Z0-9_]+' |
        grep -v '^PMO_$' | sort -u || true
}
# check BINARY SOURCES...: the names read in SOURCES against BINARY --help;
# 0, or 1 after naming each variable missing from the help
check() {
    local binary="$1" help list name missing=0
    shift
    checked+=("$(basename "$binary")")
    help="$("$BUILD/$binary" --help 2>&1)" || true
    [[ -n $help ]] || { echo "test_help_env: $binary --help printed nothing" >&2; return 1; }
    list="$(names "$@")"
    [[ -n $list ]] || { echo "test_help_env: no variables found for $binary" >&2; return 1; }
    for name in $list; do
        if ! grep -qw "$name" <<<"$help"; then
            echo "test_help_env: $binary reads $name but its --help does not name it" >&2
            missing=1
        fi
    done
    ((missing == 0)) && echo "test_help_env: $(basename "$binary"): $(wc -w <<<"$list") variables named"
    return "$missing"
}
# The check fails on a variable no --help names (a source that reads one)
probe="$(mktemp /tmp/pmo-help-env-XXXXXX.c)"
trap 'rm -f "$probe"' EXIT
printf 'const char *x = getenv ("PMO_NO_HELP_NAMES_THIS");\n' >"$probe"
if check services/registry/pmo-registry "$probe" 2>/dev/null; then
    echo "test_help_env: FAIL: the check passed a variable no --help names" >&2
    exit 1
fi
checked=()

svc="$SOURCE/services"
own() { find "$svc/$1" -maxdepth 1 -name '*.c' ! -name 'main*.c' | sort; }
service_h="$SOURCE/common/pmo_service.h"
portio=("$SOURCE"/lib/portio/*.c)
check services/pmoctl/pmoctl "$svc"/pmoctl/*.c "${portio[@]}" || status=1
for s in registry allocator riskmon notifier planner; do
    # shellcheck disable=SC2046
    check "services/$s/pmo-$s" "$svc/$s/main.c" $(own "$s") "$service_h" || status=1
done
# shellcheck disable=SC2046
check services/gateway/pmo-gateway "$svc/gateway/main.c" $(own gateway) "$service_h" "${portio[@]}" || status=1
# shellcheck disable=SC2046
check services/federation/pmo-hub "$svc/federation/main_hub.c" $(own federation) "$service_h" || status=1
# shellcheck disable=SC2046
check services/federation/pmo-uplink "$svc/federation/main_uplink.c" $(own federation) "$service_h" || status=1
# Every binary of the build is checked above
while read -r binary; do
    if [[ " ${checked[*]} " != *" $binary "* ]]; then
        echo "test_help_env: $binary is built (add_executable) but not checked here" >&2
        status=1
    fi
done < <(grep -hoE 'add_executable\([a-z-]+' "$svc"/*/CMakeLists.txt | sed 's/add_executable(//' | sort -u)
exit "$status"
