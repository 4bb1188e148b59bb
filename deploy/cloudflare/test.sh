#!/usr/bin/env bash
# The Cloudflare Worker's checks, as scripts/test runs them: format and lints (the Worker
# crate for wasm32, and the library without its `server` feature, the way the Worker
# builds it), the Worker's build (build.sh), then in workerd (`wrangler dev --local`):
# the parity table against the relay binary, several apps, a bad configuration, and the
# Auth.js end-to-end sign-in (tests/node/e2e.test.mjs) with the old and the rotated
# secret.
#
# Needs what scripts/install-deps installs (the wasm32 target, wasm-bindgen-cli, npm ci
# here) and the relay binary (relay_bin in scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

AUTHRELAY_BIN="$(relay_bin)"
export AUTHRELAY_BIN

started=$SECONDS
(cd deploy/cloudflare && cargo fmt --check)
(cd deploy/cloudflare && cargo clippy --target wasm32-unknown-unknown --all-targets --locked -- -D warnings)
cargo clippy -p authrelay --lib --no-default-features --locked -- -D warnings
deploy/cloudflare/build.sh
built=$SECONDS

# Every test has its own timeout (at most 60 s); this bounds the whole run as well.
timeout --kill-after=10 240 node --test --test-force-exit --test-timeout=120000 \
  deploy/cloudflare/tests/parity.test.mjs
# The e2e suite is the binary's; it runs against the Worker only where wrangler is (the
# parity test above says the same through describeNeeding; under CI both fail instead).
if [ -x deploy/cloudflare/node_modules/.bin/wrangler ]; then
  AUTHRELAY_E2E_TARGET=worker timeout --kill-after=10 170 \
    node --test --test-force-exit --test-timeout=120000 tests/node/e2e.test.mjs
elif in_ci; then
  abort "wrangler is not installed and CI is set: npm ci in deploy/cloudflare (scripts/install-deps does it)"
else
  echo "skipped: the Auth.js e2e through the Worker: wrangler not installed (npm ci in deploy/cloudflare)"
fi
echo "Cloudflare Worker: $((built - started)) s checking and building, $((SECONDS - built)) s testing in workerd"
