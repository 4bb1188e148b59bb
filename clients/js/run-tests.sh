#!/usr/bin/env bash
# Tests of the JavaScript client and of the Express example: known-answer vectors, unit
# tests, cross-tests with the relay binary, the example end to end (oauth2-mock-server,
# relay, preview) and the form_post sign-in in Chromium.
#
# Builds nothing: build the relay first (cargo build --release --bin authrelay, or
# scripts/check-deploy for the static musl binary, which CI requires). The binary is the
# one relay_bin in scripts/lib.sh picks: $AUTHRELAY_BIN, else the most recent build.
# Installs the example's Node packages (npm ci) if they are missing. The browser test
# needs /usr/bin/chromium (skipped without it unless CI is set).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

AUTHRELAY_BIN="$(relay_bin)"
export AUTHRELAY_BIN

if [ ! -d examples/express-preview/node_modules ]; then
  (cd examples/express-preview && npm ci --no-audit --no-fund --loglevel=error)
fi

# --test-force-exit: a server a failed test left running ends the run with its report,
# instead of holding it open until the timeout and losing the report.
# Each test has its own timeout (at most 60 s); this bounds the whole run under 3 minutes.
exec timeout --kill-after=10 165 \
  node --test --test-force-exit --test-timeout=90000 \
  clients/js/test/*.test.mjs \
  examples/express-preview/test/*.test.mjs
