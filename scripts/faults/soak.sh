#!/usr/bin/env bash
# (a) Soak: 32 connections bounce a valid callback for a while (default 10 min,
# --short 30 s, --duration SECONDS). Passes when every response is a 3xx with no socket
# errors, and the relay's RSS, sampled from /proc/PID/status, stays flat once warm:
# it may not grow by more than MAX_GROWTH_KIB (default 16 MiB) after the first tenth of
# the run. wrk asks for keep-alive; the relay closes each connection after its answer and
# wrk opens a new one. Loopback only; wrk stops by itself at the end of the duration.
set -euo pipefail
# shellcheck source=scripts/faults/common.sh
source "$(dirname "$0")/common.sh"

DURATION=600
INTERVAL=5
while [ $# -gt 0 ]; do
  case "$1" in
    --short) DURATION=30; INTERVAL=2 ;;
    --duration) DURATION="$2"; shift ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
MAX_GROWTH_KIB="${MAX_GROWTH_KIB:-16384}"
need wrk

trap stop_relay EXIT
# One log line per callback is hundreds of MB a minute here: formatted (as in production)
# but thrown away unless SOAK_LOG names a file.
start_relay "${SOAK_LOG:-/dev/null}"
state="$(make_state)"
url="$(callback_url "$state")"
code="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
[ "$code" = 302 ] || die "a single request answered $code, not 302"

sample_rss "$RELAY_PID" "$INTERVAL" "$OUT/soak-rss.txt" &
sampler=$!
echo "soak: ${DURATION}s, 32 connections, 2 threads, RSS every ${INTERVAL}s"
wrk -t2 -c32 -d"${DURATION}s" --timeout 5s --latency -s "$FAULTS_DIR/status.lua" "$url" \
  >"$OUT/soak-wrk.txt" 2>&1 || die "wrk failed: $(tail -5 "$OUT/soak-wrk.txt")"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
cat "$OUT/soak-wrk.txt"

status_line="$(grep '^STATUS' "$OUT/soak-wrk.txt")"
errors_line="$(grep '^ERRORS' "$OUT/soak-wrk.txt")"
non3xx="$(sed -E 's/.*non3xx=([0-9]+).*/\1/' <<<"$status_line")"
three="$(sed -E 's/.* 3xx=([0-9]+).*/\1/' <<<"$status_line")"
errs="$(awk '{s=0; for (i=2;i<=NF;i++) {split($i,a,"="); s+=a[2]} print s}' <<<"$errors_line")"

# Warm baseline: the first sample after a tenth of the run.
warm_after=$(( DURATION / 10 ))
warm="$(awk -v t="$warm_after" '$1>=t {print $2; exit}' "$OUT/soak-rss.txt")"
last="$(tail -1 "$OUT/soak-rss.txt" | awk '{print $2}')"
max="$(awk '{if ($2>m) m=$2} END {print m}' "$OUT/soak-rss.txt")"
summary="$(rss_summary "$OUT/soak-rss.txt")"
echo "soak: responses 3xx=$three non3xx=$non3xx socket_errors=$errs"
echo "soak: RSS KiB $summary warm=$warm (after ${warm_after}s)"

fail=0
[ "$three" -gt 0 ] || { echo "FAIL: no 3xx at all"; fail=1; }
[ "$non3xx" -eq 0 ] || { echo "FAIL: $non3xx responses were not 3xx"; fail=1; }
[ "$errs" -eq 0 ] || { echo "FAIL: socket errors: $errors_line"; fail=1; }
if [ -n "$warm" ]; then
  [ $(( max - warm )) -le "$MAX_GROWTH_KIB" ] || { echo "FAIL: RSS grew $(( max - warm )) KiB after warm-up"; fail=1; }
  [ $(( last - warm )) -le "$MAX_GROWTH_KIB" ] || { echo "FAIL: RSS ended $(( last - warm )) KiB above warm"; fail=1; }
fi
kill -0 "$RELAY_PID" 2>/dev/null || { echo "FAIL: the relay died"; fail=1; }
[ "$fail" -eq 0 ] && echo "soak: PASS"
exit "$fail"
