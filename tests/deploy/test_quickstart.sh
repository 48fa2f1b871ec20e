#!/usr/bin/env bash
# tests/deploy/test_quickstart.sh SOURCE_DIR BUILD_DIR: the README's first
# screen and its "Using pmoctl" commands, run as a reader would, against the
# demo stack that `./deploy/pmo up --detach` starts and loads (its own
# PMO_HOME and free ports, so it runs beside other tests; the binaries of
# BUILD_DIR, not rebuilt). The demo is the real one, loaded by the same
# loader (deploy/demo.sh): the GMPP projects and their departments, the
# generated people, bookings, risks, issues and status reports, the
# planner's scoring model and scenario; one documented subset:
# PMO_DEMO_SCORED=10, planner scores and benefits for 10 projects instead of
# every one (one pmoctl call each, about 200: 90 s more here). Each command
# must exit 0 (pmoctl watch runs for a few seconds, then is stopped); then
# the demo's data is checked to be there, through pmoctl and the API.
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
export PMO_DEMO_SCORED=10
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
export PMO_HUB_ENDPOINT="tcp://127.0.0.1:$((base + 6))" PMO_PLANNER_ENDPOINT="tcp://127.0.0.1:$((base + 8))"
fail() {
    echo "test_quickstart: FAIL: $*" >&2
    exit 1
}
grep -q "demo: done" "$T/up.log" || { tail -n 40 "$T/up.log" >&2; fail "the demo did not load (deploy/demo.sh)"; }
# The README's "Using pmoctl" block, line by line (continuations joined),
# run from the repository root as the README's paths say
block="$(awk '/^## Using pmoctl/{s=1} s&&/^```sh/{f=1;next} f&&/^```/{exit} f' "$SOURCE/README.md" |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta')"
[[ -n $block ]] || { echo "test_quickstart: FAIL: no sh block under 'Using pmoctl' in README.md" >&2; exit 1; }
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
# The demo's data is there: every GMPP project (133, plus the README's
# FIN-2026-014), people, risks, bookings, the planner's ranking
pmoctl --json project list --all >"$T/projects" || fail "pmoctl project list --all"
projects="$(grep -oE '"id": ?"pr_[a-z0-9]+_[0-9]+"' "$T/projects" | sort -u | wc -l)"
((projects >= 134)) || fail "the demo has $projects projects, not the 133 of GMPP (+1): $(head -c 300 "$T/projects")"
pmoctl --json risk list --limit 5 >"$T/risks" && grep -q '"title"' "$T/risks" || fail "the demo has no risks: $(head -c 300 "$T/risks")"
pmoctl conflicts | grep -q . || fail "the demo's bookings show no conflicts"
pmoctl --json ranking show --org-unit hub >"$T/ranking" || fail "pmoctl ranking show"
grep -q '"project_id"' "$T/ranking" || fail "the planner ranks no project of the demo"
# The API block: each curl answers 2xx (the import dry run: 422 lists problems)
T_TOKEN="$(cat "$PMO_HOME/admin-token")"
api() {
    curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $T_TOKEN" "http://127.0.0.1:$PMO_HTTP_PORT$1"
}
[[ $(api "/api/v1/projects?org_unit=fin&limit=5") == 200 ]] || fail "the API's project list answered $(cat "$T/body")"
[[ $(api "/api/v1/portfolio?limit=5") == 200 ]] && grep -q '"code"' "$T/body" ||
    fail "the API's portfolio of the demo: $(cat "$T/body")"
echo "test_quickstart: ok ($n commands of README.md against the demo: $projects projects, then the API)"
