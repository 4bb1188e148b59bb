# shellcheck shell=bash
# Shared by the fault scripts: start a relay on loopback, make a valid state, sample RSS.
# Everything here talks to 127.0.0.1 only, and every loop is bounded.

FAULTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$FAULTS_DIR/../lib.sh"
BIN="$(relay_bin)" || exit 1
OUT="${FAULTS_OUT:-${TMPDIR:-/tmp}/authrelay-faults}"
mkdir -p "$OUT"

export FAULT_SECRET="${FAULT_SECRET:-fault-test-secret-0123456789abcdef0123}"
PREVIEW_CALLBACK="http://localhost:5173/api/auth/callback/github"

RELAY_PID=""
RELAY_PORT=""

die() { echo "FAIL: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_relay LOGFILE: starts the relay on a free loopback port; sets RELAY_PID, RELAY_PORT.
# LOGFILE may be /dev/null: at RUST_LOG=info the relay writes one line per callback.
start_relay() {
  local log="$1"
  RELAY_PORT="$(free_port)"
  env -i PATH="$PATH" \
    AUTH_SECRET="$FAULT_SECRET" \
    AUTH_URL="https://auth.example.test/api/auth" \
    AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS="http://localhost:*" \
    AUTH_STATE_MAX_AGE=3600 \
    HOST=127.0.0.1 PORT="$RELAY_PORT" \
    LOG_FORMAT=json RUST_LOG="${RELAY_LOG:-info}" \
    "$BIN" serve >>"$log" 2>&1 &
  RELAY_PID=$!
  local i
  for i in $(seq 1 100); do
    if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$RELAY_PORT/healthz" 2>/dev/null; then
      return 0
    fi
    kill -0 "$RELAY_PID" 2>/dev/null || die "the relay exited at start-up (log: $log)"
    sleep 0.1
  done
  die "the relay did not answer /healthz within 10 s"
}

stop_relay() {
  if [ -n "$RELAY_PID" ] && kill -0 "$RELAY_PID" 2>/dev/null; then
    kill -TERM "$RELAY_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 150); do
      kill -0 "$RELAY_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
  fi
  RELAY_PID=""
}

# make_state: a native state for the preview callback, valid for an hour.
make_state() {
  env -i AUTH_SECRET="$FAULT_SECRET" AUTH_STATE_MAX_AGE=3600 "$BIN" sign --target "$PREVIEW_CALLBACK" \
    --provider github --ttl 3600
}

callback_url() {
  echo "http://127.0.0.1:$RELAY_PORT/api/auth/callback/github?code=fault-code&state=$1"
}

# rss_kib PID: resident set size in KiB, from /proc/PID/status.
rss_kib() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# sample_rss PID INTERVAL FILE: appends "seconds rss_kib" every INTERVAL seconds while PID
# lives. Run it in the background; it stops with the process.
sample_rss() {
  local pid="$1" interval="$2" file="$3" start
  start=$(date +%s)
  : >"$file"
  while kill -0 "$pid" 2>/dev/null; do
    echo "$(( $(date +%s) - start )) $(rss_kib "$pid")" >>"$file"
    sleep "$interval"
  done
}

# rss_summary FILE: "first=… last=… max=…" in KiB.
rss_summary() {
  awk 'NR==1 {first=$2} {last=$2; if ($2>max) max=$2} END {printf "first=%d last=%d max=%d samples=%d", first, last, max, NR}' "$1"
}
