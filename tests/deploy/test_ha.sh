#!/usr/bin/env bash
# tests/deploy/test_ha.sh SOURCE_DIR BUILD_DIR: the high-availability guide
# on loopback. A master and two replicas from the shipped redis.conf plus
# redis-ha.conf (min-replicas-to-write 1), three sentinels from the shipped
# sentinel.conf (down-after 1 s here instead of 5 s, to keep the test short),
# the ACL users of make-users.sh (replicas as pmo-replica, sentinels as
# pmo-sentinel); the registry finds the master through sentinel:// with its
# password file. A writer creates projects one after another with pmoctl;
# the master is SIGKILLed mid-way. Checked: writes resume (RESUME_BOUND_S is
# a deadline against a hang, not a speed target: the time it took is
# printed; 4 s on an idle machine, 17 s once under a load of 25 on 2 cores),
# the new master keeps accepting writes (two replicas are the documented
# minimum), and every acknowledged write is on the new master: the
# registry acknowledges a commit only once a replica holds it (WAIT, the
# sentinel:// default; replication is asynchronous, so without it a
# failover loses what the old master acknowledged last).
set -euo pipefail
SOURCE="$1" BUILD="$2"
RESUME_BOUND_S=60
# PMO_HA_REPLICAS=1 shows why two is the minimum: the promoted master has no
# replica left and refuses every write (the test then fails)
REPLICAS="${PMO_HA_REPLICAS:-2}"
WRITES_BEFORE=30
WRITES_AFTER=30
source "$SOURCE/tests/support/deploy_test.sh"
deploy_test_begin test_ha pmo-ha KILL
source "$SOURCE/tests/support/ports.sh"
CONF="$SOURCE/deploy/redis"
"$CONF/make-users.sh" "$CONF/users.acl" "$T/users.acl" "$T/secrets" >/dev/null
pw() { cut -d: -f2- "$T/secrets/$1.auth"; }
ADMIN="$(pw pmo-admin)"
rcli() { REDISCLI_AUTH="$ADMIN" redis-cli -p "$1" --user pmo-admin --no-auth-warning "${@:2}"; }

# --- three Redis servers: redis.conf + redis-ha.conf, paths and ports moved
declare -a RPORT RPID
start_redis() { # INDEX [MASTER_PORT]
    local i="$1" dir="$T/r$1"
    mkdir -p "$dir"
    { sed -e "s#^dir .*#dir $dir#" -e "s#^pidfile .*#pidfile $dir/pid#" -e "s#^logfile .*#logfile $T/redis$i.log#" \
        -e "s#^aclfile .*#aclfile $T/users.acl#" -e "s#^port .*#port ${RPORT[i]}#" \
        -e "s#^maxmemory .*#maxmemory 128mb#" "$CONF/redis.conf"
      sed -e "s#^masterauth .*#masterauth $(pw pmo-replica)#" "$CONF/redis-ha.conf"
      [[ -n ${2:-} ]] && echo "replicaof 127.0.0.1 $2"
    } >"$dir/redis.conf"
    redis-server "$dir/redis.conf" --daemonize no >>"$T/redis$i.out" 2>&1 &
    RPID[i]=$!
    PIDS+=($!)
}
for i in 0 1 2; do RPORT[i]="$(pmo_free_port)"; done
start_redis 0
for ((i = 1; i <= REPLICAS; i++)); do start_redis "$i" "${RPORT[0]}"; done
for ((n = 0; n < 100; n++)); do
    [[ $(rcli "${RPORT[0]}" info replication 2>/dev/null | tr -d '\r' | grep -c '^slave[0-9]*:.*state=online') == "$REPLICAS" ]] && break
    sleep 0.1
done
[[ $(rcli "${RPORT[0]}" info replication | tr -d '\r' | grep -c '^slave[0-9]*:.*state=online') == "$REPLICAS" ]] ||
    fail "the replicas did not connect as pmo-replica"
echo "test_ha: master ${RPORT[0]}, $REPLICAS replicas (min-replicas-to-write $(rcli "${RPORT[0]}" config get min-replicas-to-write | tail -n1))"

# --- three sentinels from sentinel.conf
SENTINELS=""
for i in 0 1 2; do
    port="$(pmo_free_port)"
    mkdir -p "$T/s$i"
    sed -e "s#^port .*#port $port#" -e "s#^bind .*#bind 127.0.0.1#" -e "s#^dir .*#dir $T/s$i#" \
        -e "s#^logfile .*#logfile $T/sentinel$i.log#" \
        -e "s#^sentinel monitor pmo .*#sentinel monitor pmo 127.0.0.1 ${RPORT[0]} 2#" \
        -e "s#^sentinel auth-pass pmo .*#sentinel auth-pass pmo $(pw pmo-sentinel)#" \
        -e "s#^sentinel down-after-milliseconds pmo .*#sentinel down-after-milliseconds pmo 1000#" \
        "$CONF/sentinel.conf" >"$T/s$i/sentinel.conf"
    redis-sentinel "$T/s$i/sentinel.conf" >>"$T/sentinel$i.out" 2>&1 &
    PIDS+=($!)
    SENTINELS+="${SENTINELS:+,}127.0.0.1:$port"
done
for ((n = 0; n < 100; n++)); do
    [[ $(redis-cli -p "${SENTINELS##*:}" sentinel replicas pmo 2>/dev/null | grep -c '^ip$') -ge "$REPLICAS" ]] && break
    sleep 0.1
done

# One CURVE keyring for every process this test starts (SECURITY.md): the
# services' keys by name, and pmoctl's "operator" key, which may impersonate
export PMO_KEYS="$T/keyring"
unset PMO_PRINCIPAL
for spec in "server server" "registry service pmo-registry" "allocator service pmo-allocator admin@hub" \
    "riskmon service riskmon viewer@hub" "notifier edge" \
    "planner service planner viewer@hub" "gateway edge" "hub edge" "uplink edge" "operator impersonate"; do
    read -r name kind subject grants <<<"$spec"
    "$BUILD/services/pmoctl/pmoctl" --keys "$PMO_KEYS" key make "$name" --kind "$kind" \
        ${subject:+--subject "$subject"} ${grants:+--grants "$grants"} >/dev/null
done
# --- the registry through Sentinel, as its own ACL user
REG="tcp://127.0.0.1:$(pmo_free_port)"
"$BUILD/services/registry/pmo-registry" --redis "sentinel://$SENTINELS/pmo" \
    --redis-auth-file "$T/secrets/pmo-registry.auth" --endpoint "$REG" \
    --pub "tcp://127.0.0.1:$(pmo_free_port)" >"$T/registry.log" 2>&1 &
PIDS+=($!)
export PMO_REGISTRY_ENDPOINT="$REG" PMO_TIMEOUT_MS=2000
PMOCTL="$BUILD/services/pmoctl/pmoctl"
for ((n = 0; n < 100; n++)); do "$PMOCTL" ping >/dev/null 2>&1 && break; sleep 0.1; done
"$PMOCTL" ping >/dev/null || fail "the registry did not find the master through the sentinels"
"$PMOCTL" ou create --id hub --name Hub --kind enterprise --pmo-type directive --tier hub >/dev/null
"$PMOCTL" ou create --id ha --name HA --kind division --parent hub >/dev/null

# --- writes, the master killed mid-way
: >"$T/acked"
write() { # N: create project HA-N until acknowledged; prints the seconds it took
    local start=$SECONDS
    until "$PMOCTL" --json project create --code "HA-$1" --name "HA $1" --org-unit ha >"$T/out" 2>&1 ||
        grep -q "already_exists\|taken" "$T/out"; do
        ((SECONDS - start < 30)) || fail "write $1 not acknowledged in 30 s: $(cat "$T/out")"
        sleep 0.1
    done
    echo "HA-$1" >>"$T/acked"
    echo $((SECONDS - start))
}
for ((n = 1; n <= WRITES_BEFORE; n++)); do write "$n" >/dev/null; done
kill -KILL "${RPID[0]}"
killed_at=$SECONDS
longest=0
for ((n = WRITES_BEFORE + 1; n <= WRITES_BEFORE + WRITES_AFTER; n++)); do
    took="$(write "$n")"
    ((took > longest)) && longest=$took
done
new_master="$(redis-cli -p "${SENTINELS##*:}" sentinel get-master-addr-by-name pmo | tail -n1)"
[[ $new_master != "${RPORT[0]}" ]] || fail "no failover: the master is still ${RPORT[0]}"
((longest <= RESUME_BOUND_S)) || fail "writes stalled ${longest} s after the failover (bound ${RESUME_BOUND_S} s)"
# Every acknowledged write, read back from the new master
lost=0
while read -r code; do
    "$PMOCTL" project get "$code" >/dev/null 2>&1 || { lost=$((lost + 1)); echo "test_ha: lost $code" >&2; }
done <"$T/acked"
echo "test_ha: failover to $new_master after SIGKILL of the master; writes resumed within ${longest} s" \
    "(bound ${RESUME_BOUND_S} s); $(wc -l <"$T/acked") writes acknowledged, $lost not on the new master"
((lost == 0)) || fail "$lost acknowledged writes lost"
echo "test_ha: ok"
