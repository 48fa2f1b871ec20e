#!/usr/bin/env bash
# tests/deploy/test_package.sh BUILD_DIR: the Debian package CPack builds
# from this build (cmake/PmoInstall.cmake) installs the binaries under
# /usr/bin, the units under /usr/lib/systemd/system naming /usr/bin and
# /etc/pmo, the env files as conffiles, the data under /usr/share/pmo; it
# depends on redis-server and adduser and on the shared libraries the
# binaries link; its maintainer scripts parse.
#
# Then the package is installed for real with dpkg into a throwaway root:
# this machine's own root seen through an overlay (writes go to a tmpfs) in a
# private mount namespace, so the postinst runs as on a real server while the
# machine itself is not changed. What the postinst made is checked: the pmo
# system user and group, the CURVE keyring /etc/pmo/keyring (root 0700: a
# keypair per service, the server's and root's pmoctl's, "operator") and the
# notifier's /etc/pmo/secrets.key (root 0600), /etc/pmo/keys root:pmo 0750 with the hub's keypair
# (secret root:pmo 0640), one Redis password file per service user
# (/etc/pmo/redis, root 0700), the ACL file for Redis (redis 0640, hashes
# only), /etc/redis/redis-pmo.conf and /var/lib/redis/pmo; Redis started as
# the redis user from the installed redis-pmo.conf loads that ACL file and
# lets pmo-admin in with its password and nobody in without one. `dpkg
# --purge` then runs the postrm, which removes the keyring, keys and passwords.
# Without root, mount namespaces or overlayfs the install is skipped (exit
# 77, ctest says "Skipped") after the checks above.
#
# The package is compressed with gzip here (the shipped one: CPack's
# default, xz) only to save time; its content is the same. (cmake --install
# itself takes under a second, so staging is not shared with test_install:
# the time goes to cpack's preinstall check, dpkg-shlibdeps and compression.)
set -euo pipefail
BUILD="$1"
T="$(mktemp -d /tmp/pmo-package-XXXXXX)"
trap 'umount -l "$T/ns" 2>/dev/null || true; rm -rf "$T"' EXIT
fail() {
    echo "test_package: FAIL: $*" >&2
    exit 1
}
(cd "$T" && cpack -G DEB -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip --config "$BUILD/CPackConfig.cmake" \
    -B "$T" >"$T/cpack.log" 2>&1) ||
    { cat "$T/cpack.log" >&2; fail "cpack -G DEB"; }
deb="$(ls "$T"/pmo_*.deb)"
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/files"
for f in ./usr/bin/pmo-registry ./usr/bin/pmo-allocator ./usr/bin/pmo-riskmon ./usr/bin/pmo-notifier ./usr/bin/pmo-planner \
    ./usr/bin/pmo-gateway ./usr/bin/pmo-hub ./usr/bin/pmo-uplink ./usr/bin/pmoctl \
    ./usr/share/pmo/www/index.html ./usr/share/pmo/openapi.json ./usr/share/pmo/redis/redis.conf \
    ./usr/share/pmo/redis/users.acl ./usr/share/pmo/redis/make-users.sh ./etc/pmo/gateway.env \
    ./usr/lib/systemd/system/pmo-gateway.service ./usr/lib/systemd/system/pmo-hub.service \
    ./usr/share/doc/pmo/README.md; do
    grep -qx "$f" "$T/files" || fail "the package lacks $f"
done
grep -q "^./usr/local" "$T/files" && fail "the package installs under /usr/local"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/pmo-gateway.service >"$T/unit"
grep -qx "ExecStart=/usr/bin/pmo-gateway" "$T/unit" || fail "the gateway unit does not start /usr/bin/pmo-gateway"
grep -qx "EnvironmentFile=/etc/pmo/gateway.env" "$T/unit" || fail "the gateway unit does not read /etc/pmo/gateway.env"
grep -qx "LoadCredential=redis-auth:/etc/pmo/redis/pmo-gateway.auth" "$T/unit" ||
    fail "the gateway unit does not hand over its Redis password file"
dpkg-deb -f "$deb" Depends | grep -q "redis-server" || fail "no dependency on redis-server"
dpkg-deb -f "$deb" Depends | grep -q "libczmq4" || fail "no dependency on the shared libraries"
mkdir "$T/control"
dpkg-deb -e "$deb" "$T/control"
[[ $(grep -c "^/etc/pmo/.*\.env$" "$T/control/conffiles") == 8 ]] || fail "the env files are not conffiles"
for script in postinst postrm; do
    [[ -x $T/control/$script ]] || fail "no executable $script"
    sh -n "$T/control/$script" || fail "$script does not parse"
done
grep -q "adduser --system --group" "$T/control/postinst" || fail "the postinst makes no pmo user"
grep -q "chown root:pmo" "$T/control/postinst" || fail "the postinst does not give the keys to the pmo group"
echo "test_package: the package: $(wc -l <"$T/files") paths, $(du -k "$deb" | cut -f1) KiB"
# Debian's own checker: no error (warnings are shown: today the binaries
# have no manual pages, their --help is their manual)
if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 "$deb" >"$T/lintian.log" 2>&1 || true
    if grep -q "^E:" "$T/lintian.log"; then
        grep "^E:" "$T/lintian.log" >&2
        fail "lintian finds errors in the package"
    fi
    grep "^W:" "$T/lintian.log" | grep -v "no-manual-page" || true
    echo "test_package: lintian: no errors, $(grep -c "^W:" "$T/lintian.log" || true) warnings"
else
    fail "lintian is not installed (deploy/pmo's PACKAGES has it)"
fi

# --- the postinst, run for real in a throwaway root ---------------------------------
if [[ $(id -u) != 0 ]] || ! unshare --mount --propagation private true 2>/dev/null; then
    echo "test_package: SKIPPED the install: needs root and mount namespaces (unshare --mount)"
    exit 77
fi
host_pmo="$(getent passwd pmo || true)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$T/in"
cp "$deb" "$T/in/pmo.deb"
# What runs inside the throwaway root, as root: install, check, purge
cat >"$T/in/inside.sh" <<'INSIDE'
#!/bin/sh
set -eu
port="$1"
fail() { echo "test_package: FAIL (installed): $*" >&2; exit 1; }
mode() { stat -c '%U:%G %a' "$1"; }
dpkg -i /opt/pmo-test/pmo.deb >/opt/pmo-test/dpkg.log 2>&1 || { cat /opt/pmo-test/dpkg.log >&2; fail "dpkg -i"; }
[ "$(dpkg-query -W -f '${Status}' pmo)" = "install ok installed" ] || fail "dpkg does not say pmo is installed"
getent passwd pmo | grep -q ':/nonexistent:' || fail "no pmo system user (home /nonexistent)"
getent group pmo >/dev/null || fail "no pmo group"
[ "$(id -u pmo)" -lt 1000 ] || fail "the pmo user is not a system user"
[ "$(mode /etc/pmo/keys)" = "root:pmo 750" ] || fail "/etc/pmo/keys is $(mode /etc/pmo/keys), not root:pmo 750"
[ "$(mode /etc/pmo/keys/hub.key_secret)" = "root:pmo 640" ] || fail "the hub's secret key is $(mode /etc/pmo/keys/hub.key_secret)"
[ "$(mode /etc/pmo/keys/hub.key)" = "root:pmo 644" ] || fail "the hub's public key is $(mode /etc/pmo/keys/hub.key)"
# The hub's group can read its secret key; others cannot
runuser -u pmo -- cat /etc/pmo/keys/hub.key_secret >/dev/null || fail "the pmo group cannot read the hub's secret key"
runuser -u nobody -- cat /etc/pmo/keys/hub.key_secret >/dev/null 2>&1 && fail "anyone can read the hub's secret key"
[ "$(mode /etc/pmo/redis)" = "root:root 700" ] || fail "/etc/pmo/redis is $(mode /etc/pmo/redis)"
# The CURVE keyring: root only, a keypair per service, the server's and
# root's pmoctl's (operator); the notifier's secrets key
[ "$(mode /etc/pmo/keyring)" = "root:root 700" ] || fail "/etc/pmo/keyring is $(mode /etc/pmo/keyring 2>/dev/null)"
for name in server registry allocator riskmon notifier planner gateway hub uplink operator; do
    [ -s "/etc/pmo/keyring/$name.key" ] || fail "no $name.key in /etc/pmo/keyring"
    [ "$(mode "/etc/pmo/keyring/$name.key_secret")" = "root:root 600" ] ||
        fail "/etc/pmo/keyring/$name.key_secret is missing or $(mode "/etc/pmo/keyring/$name.key_secret" 2>/dev/null)"
done
grep -q 'kind *= *"operator"' /etc/pmo/keyring/operator.key || fail "the operator key is not an operator's"
runuser -u pmo -- ls /etc/pmo/keyring >/dev/null 2>&1 && fail "the pmo user can read the keyring"
[ "$(mode /etc/pmo/secrets.key)" = "root:root 600" ] || fail "/etc/pmo/secrets.key is $(mode /etc/pmo/secrets.key 2>/dev/null)"
/usr/bin/pmoctl --keys /etc/pmo/keyring --key operator --help >/dev/null || fail "the installed pmoctl does not run with the keyring"
n=0
for user in $(sed -n 's/^user \(pmo-[a-z]*\) .*/\1/p' /usr/share/pmo/redis/users.acl); do
    f="/etc/pmo/redis/$user.auth"
    [ "$(mode "$f")" = "root:root 600" ] || fail "$f is missing or $(mode "$f" 2>/dev/null)"
    grep -q "^$user:.\{40,\}$" "$f" || fail "$f does not hold $user:<password>"
    n=$((n + 1))
done
[ "$n" -ge 8 ] || fail "only $n Redis password files"
[ "$(mode /etc/redis/pmo-users.acl)" = "redis:redis 640" ] || fail "/etc/redis/pmo-users.acl is $(mode /etc/redis/pmo-users.acl)"
grep -q "CHANGE-ME" /etc/redis/pmo-users.acl && fail "the ACL file holds a placeholder password"
for f in /etc/pmo/redis/*.auth; do
    grep -qF "$(cut -d: -f2- "$f")" /etc/redis/pmo-users.acl && fail "the ACL file holds a password in clear"
done
grep -q "^user default off" /etc/redis/pmo-users.acl || fail "the default Redis user is not off"
[ "$(mode /etc/redis/redis-pmo.conf)" = "redis:redis 640" ] || fail "/etc/redis/redis-pmo.conf is $(mode /etc/redis/redis-pmo.conf 2>/dev/null)"
[ "$(mode /var/lib/redis/pmo)" = "redis:redis 750" ] || fail "/var/lib/redis/pmo is $(mode /var/lib/redis/pmo 2>/dev/null)"
/usr/bin/pmo-registry --help >/dev/null || fail "the installed pmo-registry does not run"
# Redis from what the package installed, as Debian's redis-server@pmo runs it
# (only the port, pidfile and log moved: this machine is shared)
runuser -u redis -- redis-server /etc/redis/redis-pmo.conf --port "$port" --pidfile /tmp/redis-pmo.pid \
    --logfile /tmp/redis-pmo.log --daemonize yes || fail "redis-server from /etc/redis/redis-pmo.conf"
admin="$(cut -d: -f2- /etc/pmo/redis/pmo-admin.auth)"
i=0
until [ "$(REDISCLI_AUTH="$admin" redis-cli -p "$port" --user pmo-admin --no-auth-warning ping 2>/dev/null)" = PONG ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat /tmp/redis-pmo.log >&2; fail "pmo-admin cannot reach the installed Redis"; }
    sleep 0.1
done
redis-cli -p "$port" ping 2>&1 | grep -q NOAUTH || fail "the installed Redis answers without a user"
users="$(REDISCLI_AUTH="$admin" redis-cli -p "$port" --user pmo-admin --no-auth-warning acl users | wc -l)"
REDISCLI_AUTH="$admin" redis-cli -p "$port" --user pmo-admin --no-auth-warning shutdown nosave >/dev/null 2>&1 || true
dpkg --purge pmo >>/opt/pmo-test/dpkg.log 2>&1 || { cat /opt/pmo-test/dpkg.log >&2; fail "dpkg --purge"; }
for gone in /etc/pmo/keys /etc/pmo/keyring /etc/pmo/secrets.key /etc/pmo/redis /etc/redis/pmo-users.acl /usr/bin/pmo-registry; do
    [ -e "$gone" ] && fail "$gone is still there after dpkg --purge"
done
echo "test_package: installed with dpkg: user pmo ($(id -u pmo)), keyring root 700 (10 keypairs), hub keys root:pmo, $n Redis passwords, Redis from redis-pmo.conf with $users ACL users; purged"
INSIDE
chmod +x "$T/in/inside.sh"
mkdir -p "$T/ns"
rc=0
# The overlay's writable half lives on a tmpfs (an overlay cannot be
# written through onto another overlay, as in a container); the root is
# this machine's, read-only underneath. Network and users are the machine's
# namespaces; only mounts are private, and everything goes when it exits.
unshare --mount --propagation private bash -c '
    set -e
    T="$1" port="$2"
    mount -t tmpfs -o size=512m pmo-test "$T/ns"
    mkdir -p "$T/ns/upper/opt/pmo-test" "$T/ns/work" "$T/ns/root"
    cp "$T/in/pmo.deb" "$T/in/inside.sh" "$T/ns/upper/opt/pmo-test/"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$T/ns/upper,workdir=$T/ns/work" "$T/ns/root" || exit 77
    mount --rbind /dev "$T/ns/root/dev"
    mount -t proc proc "$T/ns/root/proc"
    mount -t tmpfs tmpfs "$T/ns/root/run"
    mount -t tmpfs tmpfs "$T/ns/root/tmp"
    exec chroot "$T/ns/root" /opt/pmo-test/inside.sh "$port"
' _ "$T" "$port" || rc=$?
if ((rc == 77)); then
    echo "test_package: SKIPPED the install: overlayfs is not available here"
    exit 77
fi
((rc == 0)) || fail "the package installed in a throwaway root (exit $rc)"
[[ $(getent passwd pmo || true) == "$host_pmo" ]] ||
    fail "the install leaked out of the throwaway root (the pmo user changed on this machine)"
echo "test_package: ok"
