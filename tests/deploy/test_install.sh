#!/usr/bin/env bash
# tests/deploy/test_install.sh SOURCE_DIR BUILD_DIR: the production install,
# as the package and the guide lay it out, on this machine's loopback.
#
#  1. `cmake --install` into a temporary DESTDIR (prefix as configured).
#  2. `systemd-analyze verify` on the installed units.
#  3. Redis from the installed one-machine redis.conf with the ACL users
#     make-users.sh writes (no default user).
#  4. Every service started the way its installed unit says: its ExecStart,
#     its EnvironmentFile, its LoadCredential handed over as
#     PMO_REDIS_AUTH_FILE (%d), paths under DESTDIR, and only the ports moved
#     to free ones (this machine is shared); the notifier may reach
#     127.0.0.1 over http (the receiver below).
#  5. A scenario through the API: create an org unit and a project, submit a
#     status report, health computed by the risk monitor, an alert raised, a
#     webhook delivered to a local receiver, a live event received over SSE;
#     the project named by its code over HTTP and with pmoctl (registry,
#     risk monitor, allocator).
#  6. Redis's ACL LOG is empty: no service was refused a command or key.
set -euo pipefail
SOURCE="$1" BUILD="$2"
source "$SOURCE/tests/support/deploy_test.sh"
deploy_test_begin test_install pmo-install TERM 'log/*.log' 15
step() { echo "test_install: $*"; }

# --- 1. install --------------------------------------------------------------
ROOT="$T/root"
mkdir -p "$T/log" "$T/cred"
DESTDIR="$ROOT" cmake --install "$BUILD" >"$T/log/install.log" 2>&1 || fail "cmake --install"
PREFIX="$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")"
P="$ROOT$PREFIX"
if [[ $PREFIX == /usr ]]; then SYSCONF="/etc"; else SYSCONF="$PREFIX/etc"; fi
for f in bin/pmo-registry bin/pmo-gateway bin/pmoctl share/pmo/www/index.html share/pmo/openapi.json \
    share/pmo/redis/redis.conf share/pmo/redis/users.acl lib/systemd/system/pmo-gateway.service; do
    [[ -e $P/$f ]] || fail "not installed: $PREFIX/$f"
done
step "installed under $P"

# --- 2. the units --------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # verify resolves ExecStart and the other paths in the real root: give it
    # copies whose paths point into DESTDIR
    mkdir -p "$T/units"
    for unit in "$P"/lib/systemd/system/pmo-*.service; do
        sed -e "s#=\\(-\\?\\)$PREFIX/#=\\1$P/#g" -e "s#:$SYSCONF/#:$ROOT$SYSCONF/#g" \
            -e "s#=$SYSCONF/#=$ROOT$SYSCONF/#g" "$unit" >"$T/units/$(basename "$unit")"
    done
    # Every complaint fails the test (a bad key or value is only a warning
    # to systemd, but it is a mistake in the unit)
    rc=0
    SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$T"/units/pmo-*.service \
        >"$T/log/verify.log" 2>&1 || rc=$?
    if ((rc != 0)) || [[ -s $T/log/verify.log ]]; then
        cat "$T/log/verify.log" >&2
        fail "systemd-analyze verify (exit $rc)"
    fi
    step "systemd-analyze verify: $(ls "$T"/units | wc -l) units"
fi

# --- 3. Redis -------------------------------------------------------------------
source "$SOURCE/tests/support/ports.sh"
declare -A PORT
for p in 6390 7101 7102 7103 7104 7105 7106 7107 7108 7111 7112 7113 7114 7116 7118 8080; do
    PORT[$p]="$(pmo_free_port)"
done
RECEIVER_PORT="$(pmo_free_port)"
SECRETS="$ROOT$SYSCONF/pmo/redis"
"$P/share/pmo/redis/make-users.sh" "$P/share/pmo/redis/users.acl" "$T/users.acl" "$SECRETS" ||
    fail "make-users.sh"
grep -q "CHANGE-ME" "$T/users.acl" && fail "make-users.sh left a CHANGE-ME password"
grep -q "^user default off" "$T/users.acl" || fail "the default user is not off"
mkdir -p "$T/redis"
# The installed redis.conf with its paths and port moved here (Redis changes
# to `dir` while it reads the file, so the paths cannot be overridden after)
sed -e "s#^dir .*#dir $T/redis#" -e "s#^pidfile .*#pidfile $T/redis.pid#" \
    -e "s#^logfile .*#logfile $T/log/redis.log#" -e "s#^aclfile .*#aclfile $T/users.acl#" \
    -e "s#^port .*#port ${PORT[6390]}#" -e "s#^maxmemory .*#maxmemory 256mb#" \
    "$P/share/pmo/redis/redis.conf" >"$T/redis.conf"
{ diff "$P/share/pmo/redis/redis.conf" "$T/redis.conf" || true; } | grep -c '^>' | grep -qx 6 ||
    fail "the installed redis.conf lacks one of dir, pidfile, logfile, aclfile, port, maxmemory"
redis-server "$T/redis.conf" --daemonize no >"$T/log/redis.out" 2>&1 &
PIDS+=($!)
ADMIN="$(cut -d: -f2- "$SECRETS/pmo-admin.auth")"
rcli() { REDISCLI_AUTH="$ADMIN" redis-cli -p "${PORT[6390]}" --user pmo-admin --no-auth-warning "$@"; }
for ((i = 0; i < 100; i++)); do
    [[ $(rcli ping 2>/dev/null) == PONG ]] && break
    sleep 0.1
done
[[ $(rcli ping) == PONG ]] || fail "redis did not start from the installed redis.conf"
[[ $(redis-cli -p "${PORT[6390]}" ping 2>&1) == *NOAUTH* ]] || fail "Redis answers without a user"
[[ $(rcli config get min-replicas-to-write | tail -n1) == 0 ]] || fail "min-replicas-to-write is set on one machine"
step "redis on ${PORT[6390]} with $(rcli acl users | wc -l) ACL users"

# --- 4. the services, as their units start them ---------------------------------
# A line of an env file or unit with its paths under DESTDIR and its ports moved
relocate() {
    local line="$1" p
    for p in "${!PORT[@]}"; do line="${line//:$p/:${PORT[$p]}}"; done
    line="${line//=$SYSCONF\//=$ROOT$SYSCONF/}"
    line="${line//=$PREFIX\//=$P/}"
    line="${line//=\/var\/lib\//=$ROOT/var/lib/}"
    echo "$line"
}
"$P/bin/pmo-hub" keygen hub "$ROOT$SYSCONF/pmo/keys" >/dev/null 2>&1 ||
    { mkdir -p "$ROOT$SYSCONF/pmo/keys" && "$P/bin/pmo-hub" keygen hub "$ROOT$SYSCONF/pmo/keys" >/dev/null; } ||
    fail "pmo-hub keygen"
mkdir -p "$ROOT$SYSCONF/pmo/spokes" "$ROOT/var/lib/pmo-gateway"
# The keyring and the secrets key as the package's postinst makes them (SECURITY.md)
KEYRING="$ROOT$SYSCONF/pmo/keyring"
"$P/bin/pmoctl" secrets-key make "$ROOT$SYSCONF/pmo/secrets.key" >/dev/null || fail "pmoctl secrets-key make"
for spec in "server server" "registry service pmo-registry" "allocator service pmo-allocator admin@hub" \
    "riskmon service riskmon viewer@hub" "notifier edge" \
    "planner service planner viewer@hub" \
    "gateway edge" "hub edge" "uplink edge" "operator operator operator@fin admin@hub"; do
    read -r name kind subject grants <<<"$spec"
    "$P/bin/pmoctl" --keys "$KEYRING" key make "$name" --kind "$kind" ${subject:+--subject "$subject"} \
        ${grants:+--grants "$grants"} >/dev/null || fail "pmoctl key make $name"
done
start_unit() {
    local svc="$1" unit="$P/lib/systemd/system/pmo-$1.service" line key value exec="" cred="" keys="" sealkey=""
    local -a envs=()
    [[ -f $unit ]] || fail "no unit for $svc"
    while IFS= read -r line; do
        case "$line" in
        ExecStart=*) exec="$(relocate "$line")" exec="${exec#ExecStart=}" ;;
        EnvironmentFile=*)
            local file
            file="$(relocate "$line")"
            file="${file#EnvironmentFile=}"
            [[ -f $file ]] || fail "$svc: its EnvironmentFile $file is not installed"
            while IFS= read -r line; do
                [[ $line =~ ^[A-Z_]+= ]] || continue
                envs+=("$(relocate "$line")")
            done <"$file"
            ;;
        LoadCredential=keys:*)
            keys="$(relocate "${line/LoadCredential=keys:/=}")"
            keys="${keys#=}"
            ;;
        Environment=PMO_KEYS=%d/keys) ;;
        LoadCredential=secrets-key:*)
            sealkey="$(relocate "${line/LoadCredential=secrets-key:/=}")"
            sealkey="${sealkey#=}"
            ;;
        Environment=PMO_SECRETS_KEY=%d/secrets-key) ;;
        LoadCredential=redis-auth:*)
            cred="$(relocate "${line/LoadCredential=redis-auth:/=}")"
            cred="${cred#=}"
            ;;
        Environment=PMO_REDIS_AUTH_FILE=%d/redis-auth) ;;
        Environment=*) envs+=("${line#Environment=}") ;;
        esac
    done <"$unit"
    [[ -n $exec && -n $cred ]] || fail "$svc: unit without ExecStart or LoadCredential"
    [[ -r $cred ]] || fail "$svc: credential $cred missing"
    # systemd copies the credential into the unit's credentials directory (%d)
    mkdir -p "$T/cred/$svc"
    cp "$cred" "$T/cred/$svc/redis-auth"
    envs+=("PMO_REDIS_AUTH_FILE=$T/cred/$svc/redis-auth")
    [[ -n $keys && -d $keys ]] || fail "$svc: unit without the keyring credential ($keys)"
    cp -r "$keys" "$T/cred/$svc/keys"
    envs+=("PMO_KEYS=$T/cred/$svc/keys")
    if [[ -n $sealkey ]]; then
        install -m 0600 "$sealkey" "$T/cred/$svc/secrets-key"
        envs+=("PMO_SECRETS_KEY=$T/cred/$svc/secrets-key")
    fi
    if [[ $svc == notifier ]]; then
        envs+=("PMO_NOTIFIER_ALLOW_NETWORKS=loopback" "PMO_NOTIFIER_ALLOW_HTTP=1")
    fi
    env -i PATH=/usr/bin:/bin "${envs[@]}" $exec >>"$T/log/$svc.log" 2>&1 </dev/null &
    PIDS+=($!)
    echo "$!" >"$T/$svc.pid"
}
for svc in registry allocator riskmon planner notifier gateway hub; do
    start_unit "$svc"
done
HTTP="http://127.0.0.1:${PORT[8080]}"
for ((i = 0; i < 300; i++)); do
    curl -fsS "$HTTP/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$HTTP/readyz" >/dev/null || fail "the installed gateway is not ready"
TOKEN_FILE="$ROOT/var/lib/pmo-gateway/admin-token"
for ((i = 0; i < 100; i++)); do [[ -s $TOKEN_FILE ]] && break; sleep 0.1; done
[[ -s $TOKEN_FILE ]] || fail "no admin token in the gateway's StateDirectory"
TOKEN="$(cat "$TOKEN_FILE")"
for svc in registry allocator riskmon planner notifier gateway hub; do
    kill -0 "$(cat "$T/$svc.pid")" 2>/dev/null || fail "$svc exited"
    grep -q "redis-auth\|$(cut -d: -f2- "$SECRETS/pmo-$svc.auth")" "$T/log/$svc.log" &&
        fail "$svc logged its Redis password or credential path"
done
step "7 services up from their units; gateway ready at $HTTP"
curl -fsS "$HTTP/" | grep -qi "<html" || fail "the dashboard is not served from $PREFIX/share/pmo/www"
curl -fsS -H "Authorization: Bearer $TOKEN" "$HTTP/api/v1/openapi.json" | python3 -c 'import json,sys; assert json.load(sys.stdin)["openapi"].startswith("3")' ||
    fail "the OpenAPI document is not served from $PREFIX/share/pmo"

# --- 5. the scenario -------------------------------------------------------------
api() { # METHOD PATH [BODY]: prints the body; fails on a status >= 400
    local out status
    out="$(curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' ${3:+--data "$3"} "$HTTP$2")" || fail "$1 $2: no answer"
    status="$out"
    ((status < 400)) || fail "$1 $2 -> $status: $(cat "$T/body")"
    cat "$T/body"
}
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }
# A webhook receiver on loopback: every POST body into a file, 200
python3 - "$RECEIVER_PORT" "$T/hooks" >"$T/log/receiver.log" 2>&1 <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
PIDS+=($!)

api POST /api/v1/org-units '{"id":"hub","name":"Enterprise","kind":"enterprise","pmo_type":"directive","pmo_tier":"hub"}' >/dev/null
api POST /api/v1/org-units '{"id":"fin","name":"Finance","kind":"division","parent":"hub","pmo_type":"supportive","pmo_tier":"spoke"}' >/dev/null
secret="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
channel="$(api POST /api/v1/channels "{\"name\":\"fin-hook\",\"kind\":\"webhook\",\"org_unit\":\"fin\",\"url\":\"http://127.0.0.1:$RECEIVER_PORT/hook\",\"signing_secrets\":[{\"secret\":\"$secret\"}]}" | jget "['id']")"
api POST /api/v1/subscriptions "{\"channel_id\":\"$channel\",\"org_unit\":\"fin\"}" >/dev/null
# Live events of the division, from before the project exists (the gateway
# knows the new division once its org-unit tree has it: ask until it does)
for ((i = 0; i < 50; i++)); do
    curl -sS -N --max-time 60 -H "Authorization: Bearer $TOKEN" "$HTTP/api/v1/events?org_unit=fin" \
        >"$T/sse" 2>"$T/log/sse.log" &
    SSE_PID=$!
    for ((j = 0; j < 20; j++)); do
        grep -q "^: connected" "$T/sse" 2>/dev/null && break 2
        kill -0 "$SSE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$SSE_PID" 2>/dev/null || true
    wait "$SSE_PID" 2>/dev/null || true
    sleep 0.2
done
grep -q "^: connected" "$T/sse" || { cat "$T/sse" >&2; fail "no live-event stream for the division fin"; }
PIDS+=("$SSE_PID")
project="$(api POST /api/v1/projects '{"code":"FIN-1","name":"Ledger","org_unit":"fin","budget":{"baseline":{"minor":100000000,"currency":"GBP"}}}' | jget "['id']")"
api POST "/api/v1/projects/$project/status-reports" \
    '{"period_end":"2026-11-30","percent_complete":20,"overall":"red","pv_minor":1000000,"ev_minor":500000,"ac_minor":1500000,"has_ac":true}' >/dev/null
step "created org units, a webhook channel, project $project and a red status report"

health=""
for ((i = 0; i < 150; i++)); do
    health="$(api GET "/api/v1/projects/$project/health" 2>/dev/null | jget ".get('current',{}).get('overall','')" 2>/dev/null || true)"
    [[ $health == red ]] && break
    sleep 0.2
done
[[ $health == red ]] || fail "health was not computed red (got '$health'): the risk monitor's batch script did not run"
alerts=0
for ((i = 0; i < 150; i++)); do
    alerts="$(api GET "/api/v1/alerts?org_unit=fin" | jget ".get('items',[]).__len__()")"
    ((alerts > 0)) && break
    sleep 0.2
done
((alerts > 0)) || fail "no alert raised for the red project"
for ((i = 0; i < 150; i++)); do
    [[ -s $T/hooks ]] && grep -q "$project" "$T/hooks" && break
    sleep 0.2
done
grep -q "$project" "$T/hooks" 2>/dev/null || fail "no webhook delivered to the receiver"
for ((i = 0; i < 150; i++)); do
    grep -q "^data:.*$project" "$T/sse" 2>/dev/null && break
    sleep 0.2
done
grep -q "^data:.*$project" "$T/sse" || { head -c 1500 "$T/sse" >&2; fail "no live event over SSE"; }
step "health $health, $alerts alert(s), webhook delivered ($(wc -l <"$T/hooks") posts), live events received ($(grep -c '^data:' "$T/sse"))"

# --- 5b. project codes wherever ids are, over HTTP and with pmoctl ------------------
# The allocator and the risk monitor resolve codes themselves (lib/orgtree), so
# the gateway and pmoctl pass them on as they are
status_of() { # METHOD PATH [BODY]: prints the status; the body in $T/body
    curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' ${3:+--data "$3"} "$HTTP$2"
}
[[ $(api GET /api/v1/projects/FIN-1 | jget "['id']") == "$project" ]] || fail "GET /api/v1/projects/FIN-1 is not $project"
[[ $(api GET /api/v1/projects/FIN-1/health | jget ".get('current',{}).get('overall','')") == red ]] ||
    fail "GET /api/v1/projects/FIN-1/health is not the project's (red)"
risk="$(api POST /api/v1/risks '{"project_id":"FIN-1","title":"Supplier late","owner":"ops@fin","probability":3,"impact":3}')"
[[ $(jget "['project_id']" <<<"$risk") == "$project" ]] || fail "a risk created for FIN-1 is not stored with $project: $risk"
resource="$(api POST /api/v1/resources '{"name":"Ann Analyst","kind":"person","role":"analyst","home_org_unit":"fin","weekly_capacity_hours":37}' | jget "['id']")"
allocation="$(api POST /api/v1/allocations "{\"project_id\":\"FIN-1\",\"resource_id\":\"$resource\",\"hours_per_week\":10,\"start_week\":\"2027-W02\",\"end_week\":\"2027-W04\"}")"
[[ $(jget "['project_id']" <<<"$allocation") == "$project" ]] || fail "an allocation asked for FIN-1 is not $project's: $allocation"
[[ $(status_of GET /api/v1/projects/FIN-404/health) == 404 ]] && grep -q "FIN-404" "$T/body" ||
    fail "an unknown code is not a 404 naming it: $(cat "$T/body")"
[[ $(status_of POST /api/v1/allocations "{\"project_id\":\"FIN-404\",\"resource_id\":\"$resource\",\"hours_per_week\":1,\"start_week\":\"2027-W02\"}") == 404 ]] &&
    grep -q "FIN-404" "$T/body" || fail "the allocator does not answer not_found naming an unknown code: $(cat "$T/body")"
export PMO_REGISTRY_ENDPOINT="tcp://127.0.0.1:${PORT[7101]}" PMO_ALLOCATOR_ENDPOINT="tcp://127.0.0.1:${PORT[7102]}"
export PMO_RISKMON_ENDPOINT="tcp://127.0.0.1:${PORT[7103]}"
# the operator's own key: the services take who it is from the key
ctl() { "$P/bin/pmoctl" --keys "$KEYRING" --key operator --timeout 5000 "$@"; }
ctl health show FIN-1 >"$T/out" 2>&1 && grep -qi "red" "$T/out" || fail "pmoctl health show FIN-1: $(cat "$T/out")"
ctl risk list --project FIN-1 >"$T/out" 2>&1 && grep -q "Supplier late" "$T/out" || fail "pmoctl risk list --project FIN-1: $(cat "$T/out")"
ctl alloc list --project FIN-1 >"$T/out" 2>&1 && grep -q "$resource\|Ann Analyst" "$T/out" || fail "pmoctl alloc list --project FIN-1: $(cat "$T/out")"
rc=0
ctl health show FIN-404 >"$T/out" 2>&1 || rc=$?
((rc == 1)) && grep -q "not_found.*FIN-404" "$T/out" || fail "pmoctl health show FIN-404 (exit $rc): $(cat "$T/out")"
step "project code FIN-1 accepted by the registry, the risk monitor and the allocator, over HTTP and pmoctl; FIN-404 not found"

# --- 6. nothing refused by the ACL -------------------------------------------------
denied="$(rcli acl log | grep -c . || true)"
if ((denied > 0)); then
    rcli acl log >&2
    fail "Redis refused commands or keys of the services' ACL users"
fi
step "ACL LOG empty: every service ran as its own user with what users.acl grants"
echo "test_install: ok"
