#!/usr/bin/env bash
# deploy/redis/make-users.sh: give every user of users.acl a fresh random
# password. Writes the ACL file Redis reads (passwords only as SHA-256
# hashes, `#<hash>`) and, per user, SECRETS/<user>.auth holding
# "USER:PASSWORD" (mode 0600): the file a service reads with
# --redis-auth-file / PMO_REDIS_AUTH_FILE, so that no password is on a
# command line. Existing .auth files are kept (their passwords are reused),
# so running it again only fills in what is missing.
#
#   make-users.sh TEMPLATE ACL_OUT SECRETS_DIR
#
# TEMPLATE is deploy/redis/users.acl (every password there is
# `>CHANGE-ME-<name>`). Used by ./deploy/pmo up, the Debian package's
# postinst and tests/deploy.
set -euo pipefail
(($# == 3)) || {
    echo "usage: $0 TEMPLATE ACL_OUT SECRETS_DIR" >&2
    exit 2
}
template="$1" acl_out="$2" secrets="$3"
[[ -r $template ]] || {
    echo "make-users.sh: cannot read $template" >&2
    exit 1
}
umask 077
mkdir -p "$secrets"
tmp="$(mktemp "$acl_out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line; do
    if [[ $line =~ ^user\ ([a-z0-9-]+)\ .*\>CHANGE-ME-[a-z0-9-]+ ]]; then
        user="${BASH_REMATCH[1]}"
        auth="$secrets/$user.auth"
        if [[ ! -s $auth ]]; then
            password="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
            printf '%s:%s\n' "$user" "$password" >"$auth"
        fi
        password="$(head -n1 "$auth")"
        password="${password#*:}"
        hash="$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)"
        line="$(sed -E "s/>CHANGE-ME-[a-z0-9-]+/#$hash/" <<<"$line")"
    fi
    printf '%s\n' "$line" >>"$tmp"
done <"$template"
chmod 0640 "$tmp"
mv "$tmp" "$acl_out"
trap - EXIT
