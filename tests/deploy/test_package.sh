#!/usr/bin/env bash
# tests/deploy/test_package.sh BUILD_DIR: the Debian package CPack builds
# from this build (cmake/PmoInstall.cmake) installs the binaries under
# /usr/bin, the units under /usr/lib/systemd/system naming /usr/bin and
# /etc/pmo, the env files as conffiles, the data under /usr/share/pmo; it
# depends on redis-server and adduser and on the shared libraries the
# binaries link; its maintainer scripts parse. (Installing it would change
# this shared machine: the postinst is run for real only by a person
# following docs/install.md.)
set -euo pipefail
BUILD="$1"
T="$(mktemp -d /tmp/pmo-package-XXXXXX)"
trap 'rm -rf "$T"' EXIT
fail() {
    echo "test_package: FAIL: $*" >&2
    exit 1
}
(cd "$T" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$T" >"$T/cpack.log" 2>&1) ||
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
echo "test_package: ok ($(wc -l <"$T/files") paths, $(du -k "$deb" | cut -f1) KiB)"
