#!/usr/bin/env bash
# run.sh: the security suite under ctest. Installs oidc-provider and jose
# from package-lock.json the first time (npm registry), then runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -d node_modules/oidc-provider ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node suite.test.mjs
