#!/usr/bin/env bash
# tests/deploy/test_quickstart.sh SOURCE_DIR BUILD_DIR: the README's first
# screen and its "Using pmoctl" commands, run as a reader would, against a
# stack that `./deploy/pmo up --detach` starts (its own PMO_HOME and free
# ports, so it runs beside other tests; the binaries of BUILD_DIR, not
# rebuilt; of the demo data only its enterprise unit "hub": the rest takes
# minutes to load here and the commands make their own data). Each command must exit 0 (pmoctl watch runs
# for a few seconds, then is stopped).
set -euo pipefail
SOURCE="$1" BUILD="$2"
T="$(mktemp -d /tmp/pmo-quickstart-XXXXXX)"
export PMO_HOME="$T/home" PMO_BUILD_DIR="$BUILD" PMO_SKIP_BUILD=1
source "$SOURCE/tests/support/ports.sh"
# A base whose +1..+18 (every port deploy/pmo derives from it, the
# planner's +8 and +18 included), +80 and +90 are free and claimed, below
# the kernel's ephemeral range
low=$(pmo_ephemeral_low)
for ((i = 0; i < 50; i++)); do
    base=$((10000 + (RANDOM % ((low - 10100) / 100)) * 100))
    ok=true
    for off in $(seq 1 18) 80 90; do
        pmo_port_claim $((base + off)) || { ok=false; break; }
    done
    $ok && break
done
$ok || { echo "test_quickstart: no free port range" >&2; exit 1; }
export PMO_PORT_BASE="$base" PMO_HTTP_PORT=$((base + 80)) PMO_REDIS_PORT=$((base + 90))
cleanup() {
    "$SOURCE/deploy/pmo" down >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$PMO_HOME"
touch "$PMO_HOME/demo-loaded" # the commands below make their own data
cd "$T"
if ! "$SOURCE/deploy/pmo" up --detach >"$T/up.log" 2>&1; then
    tail -n 40 "$T/up.log" >&2
    echo "test_quickstart: FAIL: ./deploy/pmo up --detach" >&2
    exit 1
fi
"$SOURCE/deploy/pmo" status >/dev/null || { echo "test_quickstart: FAIL: status" >&2; exit 1; }
export PATH="$BUILD/services/pmoctl:$PATH"
# pmoctl finds the services on the moved ports (the defaults need nothing)
export PMO_REGISTRY_ENDPOINT="tcp://127.0.0.1:$((base + 1))" PMO_REGISTRY_PUB="tcp://127.0.0.1:$((base + 11))"
export PMO_ALLOCATOR_ENDPOINT="tcp://127.0.0.1:$((base + 2))" PMO_RISKMON_ENDPOINT="tcp://127.0.0.1:$((base + 3))"
export PMO_NOTIFIER_ENDPOINT="tcp://127.0.0.1:$((base + 4))" PMO_GATEWAY_ENDPOINT="tcp://127.0.0.1:$((base + 5))"
export PMO_HUB_ENDPOINT="tcp://127.0.0.1:$((base + 6))"
# The README's "Using pmoctl" block, line by line (continuations joined),
# run from the repository root as the README's paths say
block="$(awk '/^## Using pmoctl/{s=1} s&&/^```sh/{f=1;next} f&&/^```/{exit} f' "$SOURCE/README.md" |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta')"
[[ -n $block ]] || { echo "test_quickstart: FAIL: no sh block under 'Using pmoctl' in README.md" >&2; exit 1; }
# The demo's enterprise unit (the demo itself is skipped, above)
pmoctl ou create --id hub --name "HM Government" --kind enterprise --pmo-type directive --tier hub \
    >/dev/null || { echo "test_quickstart: FAIL: the hub org unit" >&2; exit 1; }
# Relative paths of the README (deploy/data/...) resolve from here too
ln -s "$SOURCE/deploy" "$T/deploy"
n=0
while IFS= read -r line; do
    command="${line%%#*}"
    [[ -z ${command// /} ]] && continue
    n=$((n + 1))
    if [[ $command == "pmoctl watch"* ]]; then
        rc=0
        timeout 3 bash -c "$command" >"$T/out" 2>&1 || rc=$?
        ((rc == 124)) || { cat "$T/out" >&2; echo "test_quickstart: FAIL: $command exited $rc" >&2; exit 1; }
    elif ! (cd "$T" && bash -c "$command") >"$T/out" 2>&1; then
        cat "$T/out" >&2
        echo "test_quickstart: FAIL: $command" >&2
        exit 1
    fi
    echo "test_quickstart: ok: $command"
done <<<"$block"
# The API block: each curl answers 2xx (the import dry run: 422 lists problems)
T_TOKEN="$(cat "$PMO_HOME/admin-token")"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T_TOKEN" \
    "http://127.0.0.1:$PMO_HTTP_PORT/api/v1/projects?org_unit=fin&limit=5")"
[[ $code == 200 ]] || { echo "test_quickstart: FAIL: the API's project list answered $code" >&2; exit 1; }
echo "test_quickstart: ok ($n commands of README.md, then the API)"
