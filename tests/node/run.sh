#!/usr/bin/env bash
# Auth.js and browser end-to-end tests: a real Auth.js preview (@auth/express), a real
# OpenID Connect provider (oauth2-mock-server) and Chromium, against the relay binary; a
# real Passport preview through the relay's authorize route (oauth-library*.test.mjs);
# and the WHATWG differential (whatwg.test.mjs): Node's URL parser reads every Location
# and form action the relay emits for the hostile-target corpora.
#
# Builds nothing: the caller builds the relay first (cargo build --release --bin authrelay,
# or scripts/check-deploy for the static musl binary, which CI requires). The binary is
# the one relay_bin in scripts/lib.sh picks: $AUTHRELAY_BIN, else the most recent build.
# Needs the Node packages installed (npm ci in tests/node; scripts/install-deps does it)
# and /usr/bin/chromium for the browser test (skipped without it unless CI is set).
#
# Then the Auth.js version matrix (tests/authjs-matrix/run.mjs): the same sign-in against
# each @auth/core minor line, @auth/express and @hono/auth-js. Each of its package
# directories is installed here with npm ci (from the npm cache when it holds the
# packages), unless its node_modules is newer than its lockfile; the time the install and
# the run take is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

AUTHRELAY_BIN="$(relay_bin)"
export AUTHRELAY_BIN

[ -d tests/node/node_modules ] || abort "Node packages missing; run: (cd tests/node && npm ci)"

# --test-force-exit: a server a failed test left running ends the run with its report,
# instead of holding it open until the timeout and losing the report.
# Every test has its own timeout (at most 60 s); this bounds the whole run as well.
timeout --kill-after=10 170 \
  node --test --test-force-exit --test-timeout=120000 tests/node/e2e.test.mjs tests/node/browser.test.mjs \
  tests/node/whatwg.test.mjs tests/node/oauth-library.test.mjs tests/node/oauth-library.browser.test.mjs

matrix_started=$SECONDS
for dir in tests/authjs-matrix/packages/*/; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
done
matrix_installed=$SECONDS
# Each package directory has its own time limit (60 s, three at a time); this bounds the whole.
timeout --kill-after=10 180 node tests/authjs-matrix/run.mjs
echo "Auth.js matrix: $((matrix_installed - matrix_started)) s installing, $((SECONDS - matrix_installed)) s running"
