#!/usr/bin/env bash
# tests/deploy/test_redis_restart.sh SOURCE_DIR BUILD_DIR: Redis as shipped
# (deploy/redis/redis.conf, the ACL users of make-users.sh) keeps every
# acknowledged commit across a crash. The registry, as its own ACL user,
# acknowledges projects; Redis is SIGKILLed and started again from its
# append-only file; every project must be read back, and Redis must not have
# refused any of the file's transactions (NOPERM). Redis 7.0 replays each
# transaction of the file as the default user (redis/redis#14541): with the
# default user allowed nothing, every commit is dropped at the restart.
# PMO_TEST_ACL_DEFAULT='user default off' shows it (the test then fails).
set -euo pipefail
SOURCE="$1" BUILD="$2"
WRITES=20
source "$SOURCE/tests/support/deploy_test.sh"
deploy_test_begin test_redis_restart pmo-restart KILL
source "$SOURCE/tests/support/ports.sh"
CONF="$SOURCE/deploy/redis"
"$CONF/make-users.sh" "$CONF/users.acl" "$T/users.acl" "$T/secrets" >/dev/null
if [[ -n ${PMO_TEST_ACL_DEFAULT:-} ]]; then
    sed -i "1s/.*/$PMO_TEST_ACL_DEFAULT/" "$T/users.acl"
fi
ADMIN="$(cut -d: -f2- "$T/secrets/pmo-admin.auth")"
PORT="$(pmo_free_port)"
rcli() { REDISCLI_AUTH="$ADMIN" redis-cli -p "$PORT" --user pmo-admin --no-auth-warning "$@"; }
mkdir -p "$T/redis"
sed -e "s#^dir .*#dir $T/redis#" -e "s#^pidfile .*#pidfile $T/redis.pid#" \
    -e "s#^logfile .*#logfile $T/redis.log#" -e "s#^aclfile .*#aclfile $T/users.acl#" \
    -e "s#^port .*#port $PORT#" -e "s#^maxmemory .*#maxmemory 128mb#" \
    "$CONF/redis.conf" >"$T/redis.conf"
REDIS_PID=""
start_redis() {
    redis-server "$T/redis.conf" --daemonize no >>"$T/redis.out" 2>&1 &
    REDIS_PID=$!
    PIDS+=($!)
    for ((n = 0; n < 100; n++)); do
        [[ $(rcli ping 2>/dev/null) == PONG ]] && [[ $(rcli info persistence 2>/dev/null | tr -d '\r' |
            grep '^loading:') == loading:0 ]] && return 0
        sleep 0.1
    done
    fail "Redis did not start from $T/redis.conf"
}
start_redis
[[ $(redis-cli -p "$PORT" set probe 1 2>&1) == *NOAUTH* ]] || fail "a connection without a user may write"

export PMO_KEYS="$T/keyring"
unset PMO_PRINCIPAL
PMOCTL="$BUILD/services/pmoctl/pmoctl"
"$PMOCTL" --keys "$PMO_KEYS" key make server --kind server >/dev/null
"$PMOCTL" --keys "$PMO_KEYS" key make registry --kind service --subject pmo-registry >/dev/null
"$PMOCTL" --keys "$PMO_KEYS" key make operator --kind impersonate >/dev/null
REG="tcp://127.0.0.1:$(pmo_free_port)"
"$BUILD/services/registry/pmo-registry" --redis "redis://127.0.0.1:$PORT/0" \
    --redis-auth-file "$T/secrets/pmo-registry.auth" --endpoint "$REG" \
    --pub "tcp://127.0.0.1:$(pmo_free_port)" >"$T/registry.log" 2>&1 &
PIDS+=($!)
export PMO_REGISTRY_ENDPOINT="$REG" PMO_TIMEOUT_MS=5000
for ((n = 0; n < 100; n++)); do "$PMOCTL" ping >/dev/null 2>&1 && break; sleep 0.1; done
"$PMOCTL" ping >/dev/null || fail "the registry did not start"
"$PMOCTL" ou create --id hub --name Hub --kind enterprise --pmo-type directive --tier hub >/dev/null
"$PMOCTL" ou create --id rs --name Restart --kind division --parent hub >/dev/null
for ((n = 1; n <= WRITES; n++)); do
    "$PMOCTL" project create --code "RS-$n" --name "Restart $n" --org-unit rs >/dev/null ||
        fail "create RS-$n was not acknowledged"
done

# A crash: no shutdown, no rewrite; the acknowledged commits are in the file
kill -KILL "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
start_redis
refused="$(grep -c NOPERM "$T/redis.log" || true)"
lost=0
for ((n = 1; n <= WRITES; n++)); do
    until "$PMOCTL" project get "RS-$n" >"$T/out" 2>&1 || grep -q not_found "$T/out"; do
        ((SECONDS < 120)) || fail "the registry did not answer after Redis restarted: $(cat "$T/out")"
        sleep 0.2
    done
    grep -q not_found "$T/out" && { lost=$((lost + 1)); echo "test_redis_restart: lost RS-$n" >&2; }
done
"$PMOCTL" ou get rs >/dev/null 2>&1 || { lost=$((lost + 1)); echo "test_redis_restart: lost the unit rs" >&2; }
echo "test_redis_restart: Redis SIGKILLed after $WRITES acknowledged projects and started again from its" \
    "append-only file: $lost lost, $refused transactions of the file refused (NOPERM)"
((lost == 0 && refused == 0)) || fail "$lost acknowledged writes lost across the restart ($refused NOPERM in Redis's log)"
echo "test_redis_restart: ok"
