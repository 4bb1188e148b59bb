#!/usr/bin/env bash
# Auth.js and browser end-to-end tests: a real Auth.js preview (@auth/express), a real
# OpenID Connect provider (oauth2-mock-server) and Chromium, against the relay binary;
# and the WHATWG differential (whatwg.test.mjs): Node's URL parser reads every Location
# and form action the relay emits for the hostile-target corpora.
#
# Builds nothing: the caller builds the relay first (cargo build --release --bin authrelay,
# or scripts/check-deploy for the static musl binary, which CI requires). The binary is
# the one relay_bin in scripts/lib.sh picks: $AUTHRELAY_BIN, else the most recent build.
# Needs the Node packages installed (npm ci in tests/node; scripts/install-deps does it)
# and /usr/bin/chromium for the browser test (skipped without it unless CI is set).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

AUTHRELAY_BIN="$(relay_bin)"
export AUTHRELAY_BIN

[ -d tests/node/node_modules ] || abort "Node packages missing; run: (cd tests/node && npm ci)"

# Every test has its own timeout (at most 60 s); this bounds the whole run as well.
exec timeout --kill-after=10 170 \
  node --test --test-timeout=120000 tests/node/e2e.test.mjs tests/node/browser.test.mjs \
  tests/node/whatwg.test.mjs
