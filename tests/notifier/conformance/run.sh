#!/usr/bin/env bash
# run.sh: the notifier's conformance check under ctest (test_notifier_conformance).
# Installs the validators from package-lock.json (npm registry) the first
# time and whenever the lockfile changed since (a stamp in node_modules),
# then checks every payload the notifier tests kept in
# CAPTURES_DIR: chat and webhook payloads with conformance.mjs, email with
# mail_check.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
captures="${1:?usage: run.sh CAPTURES_DIR}"
lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat node_modules/.pmo-lock 2>/dev/null)" != "$lock" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock" > node_modules/.pmo-lock
fi
node conformance.mjs "$captures"
python3 mail_check.py "$captures"
