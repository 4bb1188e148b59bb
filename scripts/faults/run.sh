#!/usr/bin/env bash
# Load and fault tests against a release relay on 127.0.0.1 (see docs/security-testing.md).
#   scripts/faults/run.sh            full length: a 10-minute soak, then the rest
#   scripts/faults/run.sh --short    CI length: everything in under 3 minutes
# AUTHRELAY_BIN picks the binary (default target/release/authrelay, built if missing);
# FAULTS_OUT the directory for logs and reports. Exits non-zero if any invariant fails.
# Every tool sends traffic to loopback only and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."

short=""
[ "${1:-}" = "--short" ] && short="--short"

BIN="${AUTHRELAY_BIN:-target/release/authrelay}"
if [ ! -x "$BIN" ]; then
  echo "==> building $BIN"
  cargo build --release --locked --bin authrelay
fi
export AUTHRELAY_BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
export FAULTS_OUT="${FAULTS_OUT:-${TMPDIR:-/tmp}/authrelay-faults}"
mkdir -p "$FAULTS_OUT"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

# The slow-client test holds more than a thousand sockets on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 65536 2>/dev/null || true

failed=()
run() {
  local name="$1"; shift
  echo
  echo "==> $name"
  local t0=$SECONDS
  if "$@"; then
    echo "==> $name passed in $((SECONDS - t0)) s"
  else
    echo "==> $name FAILED in $((SECONDS - t0)) s"
    failed+=("$name")
  fi
}

run "soak" scripts/faults/soak.sh $short
run "sigterm during load" python3 scripts/faults/sigterm.py
run "slow clients" python3 scripts/faults/slowloris.py $short
run "malformed HTTP" python3 scripts/faults/malformed.py

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fault tests FAILED: ${failed[*]} (logs in $FAULTS_OUT)"
  exit 1
fi
echo "fault tests passed (logs in $FAULTS_OUT)"
