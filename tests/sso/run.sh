#!/usr/bin/env bash
# run.sh: the single sign-on end-to-end test under ctest. Installs
# oidc-provider, jose and playwright-core from package-lock.json the first
# time (npm registry), then runs the test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -d node_modules/oidc-provider || ! -d node_modules/playwright-core ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node sso.test.mjs
