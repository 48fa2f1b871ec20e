#!/usr/bin/env bash
# run.sh [TEST.mjs]: an end-to-end test under ctest (default: the dashboard's).
# Installs playwright-core and axe-core from package-lock.json when one is
# missing (npm registry), then runs the test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -d node_modules/playwright-core || ! -f node_modules/axe-core/axe.min.js ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node "${1:-dashboard.test.mjs}"
