#!/usr/bin/env bash
# tests/deploy/test_spokes.sh SOURCE_DIR BUILD_DIR: the README's "A hub with
# spokes" guide, step by step on loopback. Two stacks, each with its own
# Redis (shipped redis.conf, ACL users of make-users.sh): the hub (registry
# + pmo-hub) and the spoke "dft" (registry + pmo-uplink). Keys made and
# copied as the guide says; the uplink configured with the variables the
# guide names. Checked: the spoke shows connected at the hub, the spoke's
# copy of the hub unit exists, a project created in the spoke's division
# reaches the hub's roll-up.
set -euo pipefail
SOURCE="$1" BUILD="$2"
source "$SOURCE/tests/support/deploy_test.sh"
deploy_test_begin test_spokes pmo-spokes TERM
source "$SOURCE/tests/support/ports.sh"
CONF="$SOURCE/deploy/redis"
BIN="$BUILD/services"
PMOCTL="$BIN/pmoctl/pmoctl"
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
# stack NAME: Redis with the shipped configuration and users, and a registry
stack() {
    local name="$1" dir="$T/$1" port
    mkdir -p "$dir/redis"
    "$CONF/make-users.sh" "$CONF/users.acl" "$dir/users.acl" "$dir/secrets" >/dev/null
    port="$(pmo_free_port)"
    sed -e "s#^dir .*#dir $dir/redis#" -e "s#^pidfile .*#pidfile $dir/redis.pid#" \
        -e "s#^logfile .*#logfile $T/$name-redis.log#" -e "s#^aclfile .*#aclfile $dir/users.acl#" \
        -e "s#^port .*#port $port#" -e "s#^maxmemory .*#maxmemory 128mb#" \
        "$CONF/redis.conf" >"$dir/redis.conf"
    redis-server "$dir/redis.conf" --daemonize no >/dev/null 2>&1 &
    PIDS+=($!)
    eval "${name^^}_REDIS=redis://127.0.0.1:$port"
    eval "${name^^}_REG=tcp://127.0.0.1:$(pmo_free_port)"
    eval "${name^^}_PUB=tcp://127.0.0.1:$(pmo_free_port)"
    local reg="${name^^}_REG" pub="${name^^}_PUB"
    for ((n = 0; n < 100; n++)); do
        REDISCLI_AUTH="$(cut -d: -f2- "$dir/secrets/pmo-admin.auth")" redis-cli -p "$port" \
            --user pmo-admin --no-auth-warning ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    "$BIN/registry/pmo-registry" --redis "redis://127.0.0.1:$port" \
        --redis-auth-file "$dir/secrets/pmo-registry.auth" --endpoint "${!reg}" --pub "${!pub}" \
        >"$T/$name-registry.log" 2>&1 &
    PIDS+=($!)
    for ((n = 0; n < 100; n++)); do PMO_REGISTRY_ENDPOINT="${!reg}" "$PMOCTL" ping >/dev/null 2>&1 && break; sleep 0.1; done
    PMO_REGISTRY_ENDPOINT="${!reg}" "$PMOCTL" ping >/dev/null || fail "the $name registry did not start"
}
stack hub
stack spoke
PMO_REGISTRY_ENDPOINT="$HUB_REG" "$PMOCTL" ou create --id hub --name Enterprise --kind enterprise \
    --pmo-type directive --tier hub >/dev/null

# Guide step 1: the hub's keypair (the package makes it); hub.key to the spoke
mkdir -p "$T/hub/keys" "$T/hub/spokes" "$T/spoke/keys"
"$BIN/federation/pmo-hub" keygen hub "$T/hub/keys" >/dev/null
cp "$T/hub/keys/hub.key" "$T/spoke/keys/"
# Step 2: the spoke's keypair naming its division; its public key to the hub
"$BIN/federation/pmo-hub" keygen dft "$T/spoke/keys" dft >/dev/null
cp "$T/spoke/keys/dft.key" "$T/hub/spokes/"
[[ $(stat -c %a "$T/spoke/keys/dft.key_secret") == 600 ]] || fail "keygen's secret key is not 0600"
# The hub, from its env file's settings (hub.env), ports moved
HUB_ENDPOINT="tcp://127.0.0.1:$(pmo_free_port)"
SPOKE_PORT="$(pmo_free_port)"
PMO_HUB_CERT="$T/hub/keys/hub.key_secret" PMO_HUB_SPOKES="$T/hub/spokes" \
    PMO_HUB_SPOKE_ENDPOINT="tcp://127.0.0.1:$SPOKE_PORT" PMO_HUB_ENDPOINT="$HUB_ENDPOINT" \
    PMO_HUB_PUB="tcp://127.0.0.1:$(pmo_free_port)" PMO_REGISTRY_ENDPOINT="$HUB_REG" PMO_REGISTRY_PUB="$HUB_PUB" \
    PMO_REDIS_URL="$HUB_REDIS" PMO_REDIS_AUTH_FILE="$T/hub/secrets/pmo-hub.auth" \
    "$BIN/federation/pmo-hub" >"$T/hub-hub.log" 2>&1 &
PIDS+=($!)
# Step 3: the uplink with the variables the guide names
PMO_SPOKE=dft PMO_SPOKE_DIVISIONS=dft PMO_SPOKE_CERT="$T/spoke/keys/dft.key_secret" \
    PMO_HUB_KEY="$T/spoke/keys/hub.key" PMO_HUB_SPOKE_ENDPOINT="tcp://127.0.0.1:$SPOKE_PORT" \
    PMO_REGISTRY_ENDPOINT="$SPOKE_REG" PMO_ALLOCATOR_ENDPOINT="" \
    PMO_REDIS_URL="$SPOKE_REDIS" PMO_REDIS_AUTH_FILE="$T/spoke/secrets/pmo-uplink.auth" \
    "$BIN/federation/pmo-uplink" >"$T/spoke-uplink.log" 2>&1 &
PIDS+=($!)
# "The uplink creates the spoke's copy of the hub org unit; then create the
# division under it"
for ((n = 0; n < 150; n++)); do
    PMO_REGISTRY_ENDPOINT="$SPOKE_REG" "$PMOCTL" ou get hub >/dev/null 2>&1 && break
    sleep 0.1
done
PMO_REGISTRY_ENDPOINT="$SPOKE_REG" "$PMOCTL" ou get hub >/dev/null 2>&1 ||
    fail "the uplink did not create the spoke's copy of the hub unit"
PMO_REGISTRY_ENDPOINT="$SPOKE_REG" "$PMOCTL" ou create --id dft --name Transport --kind division \
    --parent hub --pmo-type supportive --tier spoke >/dev/null
PMO_REGISTRY_ENDPOINT="$SPOKE_REG" "$PMOCTL" project create --code DFT-1 --name "Rail" --org-unit dft >/dev/null
# Step 4: pmoctl hub spokes at the hub shows the spoke connected
for ((n = 0; n < 150; n++)); do
    PMO_HUB_ENDPOINT="$HUB_ENDPOINT" "$PMOCTL" hub spokes 2>/dev/null | grep dft | grep -q connected && break
    sleep 0.1
done
PMO_HUB_ENDPOINT="$HUB_ENDPOINT" "$PMOCTL" hub spokes | tee "$T/spokes.txt" | grep dft | grep -q connected ||
    fail "the hub does not show the spoke connected: $(cat "$T/spokes.txt")"
for ((n = 0; n < 150; n++)); do
    PMO_HUB_ENDPOINT="$HUB_ENDPOINT" "$PMOCTL" --json hub rollup --list project 2>/dev/null | grep -q DFT-1 && break
    sleep 0.1
done
PMO_HUB_ENDPOINT="$HUB_ENDPOINT" "$PMOCTL" --json hub rollup --list project | grep -q DFT-1 ||
    fail "the spoke's project is not in the hub's roll-up"
cat "$T/spokes.txt"
echo "test_spokes: the spoke dft connected to the hub; its project reached the roll-up"
echo "test_spokes: ok"
