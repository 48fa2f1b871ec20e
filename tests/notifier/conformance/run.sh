#!/usr/bin/env bash
# run.sh: the notifier's conformance check under ctest (test_notifier_conformance).
# Installs the validators from package-lock.json the first time (npm
# registry), then checks every payload the notifier tests kept in
# CAPTURES_DIR: chat and webhook payloads with conformance.mjs, email with
# mail_check.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
captures="${1:?usage: run.sh CAPTURES_DIR}"
if [[ ! -d node_modules/adaptivecards || ! -d node_modules/typescript ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
node conformance.mjs "$captures"
python3 mail_check.py "$captures"
