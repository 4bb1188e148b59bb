#!/usr/bin/env bash
# Auth.js and browser end-to-end tests: a real Auth.js preview (@auth/express), a real
# OpenID Connect provider (oauth2-mock-server) and Chromium, against the relay binary.
#
# Builds nothing: the caller builds the relay first (cargo build --release --bin authrelay).
# Uses $AUTHRELAY_BIN if set, else target/release/authrelay, else target/debug/authrelay.
# Needs the Node packages installed (npm ci in tests/node; scripts/install-deps does it)
# and /usr/bin/chromium for the browser test (skipped without it unless CI is set).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${AUTHRELAY_BIN:-}" ]; then
  if [ -x target/release/authrelay ]; then
    AUTHRELAY_BIN=target/release/authrelay
  elif [ -x target/debug/authrelay ]; then
    AUTHRELAY_BIN=target/debug/authrelay
    echo "tests/node/run.sh: no release build, using $AUTHRELAY_BIN" >&2
  else
    echo "tests/node/run.sh: no relay binary; build it first: cargo build --release --bin authrelay" >&2
    exit 1
  fi
fi
if [ ! -x "$AUTHRELAY_BIN" ]; then
  echo "tests/node/run.sh: AUTHRELAY_BIN=$AUTHRELAY_BIN is not an executable file" >&2
  exit 1
fi
AUTHRELAY_BIN="$(cd "$(dirname "$AUTHRELAY_BIN")" && pwd)/$(basename "$AUTHRELAY_BIN")"
export AUTHRELAY_BIN

if [ ! -d tests/node/node_modules ]; then
  echo "tests/node/run.sh: Node packages missing; run: (cd tests/node && npm ci)" >&2
  exit 1
fi

# Every test has its own timeout (at most 60 s); this bounds the whole run as well.
exec timeout --kill-after=10 170 \
  node --test --test-timeout=120000 tests/node/e2e.test.mjs tests/node/browser.test.mjs
