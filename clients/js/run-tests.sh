#!/usr/bin/env bash
# Tests of the JavaScript client and of the Express example: known-answer vectors, unit
# tests, cross-tests with the relay binary, the example end to end (oauth2-mock-server,
# relay, preview) and the form_post sign-in in Chromium.
#
# Builds nothing: build the relay first (cargo build --release --bin authrelay, or a debug
# build). Uses $AUTHRELAY_BIN if set, else target/release/authrelay, else
# target/debug/authrelay. Installs the example's Node packages (npm ci) if they are
# missing. The browser test needs /usr/bin/chromium (skipped without it unless CI is set).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${AUTHRELAY_BIN:-}" ]; then
  if [ -x target/release/authrelay ]; then
    AUTHRELAY_BIN=target/release/authrelay
  elif [ -x target/debug/authrelay ]; then
    AUTHRELAY_BIN=target/debug/authrelay
    echo "clients/js/run-tests.sh: no release build, using $AUTHRELAY_BIN" >&2
  else
    echo "clients/js/run-tests.sh: no relay binary; build it first: cargo build --release --bin authrelay" >&2
    exit 1
  fi
fi
if [ ! -x "$AUTHRELAY_BIN" ]; then
  echo "clients/js/run-tests.sh: AUTHRELAY_BIN=$AUTHRELAY_BIN is not an executable file" >&2
  exit 1
fi
AUTHRELAY_BIN="$(cd "$(dirname "$AUTHRELAY_BIN")" && pwd)/$(basename "$AUTHRELAY_BIN")"
export AUTHRELAY_BIN

if [ ! -d examples/express-preview/node_modules ]; then
  (cd examples/express-preview && npm ci --no-audit --no-fund --loglevel=error)
fi

# Each test has its own timeout (at most 60 s); this bounds the whole run under 3 minutes.
exec timeout --kill-after=10 165 \
  node --test --test-timeout=90000 \
  clients/js/test/*.test.mjs \
  examples/express-preview/test/*.test.mjs
