#!/usr/bin/env bash
# Load and fault tests against a release relay on 127.0.0.1 (see docs/security-testing.md).
#   scripts/faults/run.sh            full length: a 10-minute soak, then the rest
#   scripts/faults/run.sh --short    CI length: everything in under 3 minutes
# The binary is the one relay_bin in scripts/lib.sh picks ($AUTHRELAY_BIN, else the most
# recent build; a release build is made when there is none, except under CI, which
# requires the static musl binary); FAULTS_OUT names the directory for logs and reports.
# Exits non-zero if any invariant fails. Every tool sends traffic to loopback only and
# stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

short=""
[ "${1:-}" = "--short" ] && short="--short"

AUTHRELAY_BIN="$(relay_bin --build)"
export AUTHRELAY_BIN
export FAULTS_OUT="${FAULTS_OUT:-${TMPDIR:-/tmp}/authrelay-faults}"
mkdir -p "$FAULTS_OUT"
need wrk

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
run "kept-alive connections, 128 files" python3 scripts/faults/keepalive.py

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fault tests FAILED: ${failed[*]} (logs in $FAULTS_OUT)"
  exit 1
fi
echo "fault tests passed (logs in $FAULTS_OUT)"
