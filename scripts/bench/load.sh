#!/usr/bin/env bash
# Load comparison: authrelay vs the stable Auth.js deployment vs a bare actix-web server,
# all on loopback. See docs/performance.md.
#
#   scripts/bench/load.sh                 # full run: 5 interleaved 10 s runs per server,
#                                         # 1M-request soak, 20 starts, SVG chart
#   scripts/bench/load.sh --quick         # CI smoke run: 1 run of 3 s per server,
#                                         # 100k-request soak, 5 starts, no chart
#   scripts/bench/load.sh --update-docs   # full run, and copy the chart to docs/
#
# Other flags (--runs N, --duration S, --soak N, --ready-starts N, --baseline BINARY: an
# earlier relay build loaded in the same interleaved runs) go to load.py.
# Results: target/bench/results.{json,md} (and performance.svg). It builds the release
# binaries first (honouring CARGO_TARGET_DIR), installs wrk and the Node test packages
# if they are missing, and stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

quick=0
chart=1
update_docs=0
pass=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1; chart=0; pass+=("$arg") ;;
    --chart) chart=1 ;;
    --no-chart) chart=0 ;;
    --update-docs) update_docs=1 ;;
    *) pass+=("$arg") ;;
  esac
done

step "building release binaries (authrelay, examples/bare_ceiling)"
# Two builds: one with the example would give the relay the dev-dependencies' features
# too, and the relay measured must be the one that ships.
cargo build --release --locked --bin authrelay
cargo build --release --locked --example bare_ceiling
target_dir="${CARGO_TARGET_DIR:-target}"
relay="$target_dir/release/authrelay"
ceiling="$target_dir/release/examples/bare_ceiling"

step "tools"
need wrk
need curl
need strip binutils
need python3 python3 python3-venv
need node nodejs npm
if [ ! -d tests/node/node_modules/@auth/express ]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "wrk: $(wrk --version 2>&1 | head -1)"
echo "node: $(node --version)"

mkdir -p target/bench
step "load (loopback only)"
status=0
python3 scripts/bench/load.py --relay "$relay" --ceiling "$ceiling" --out target/bench "${pass[@]}" || status=$?

if [ "$chart" = 1 ] && [ -f target/bench/results.json ]; then
  step "chart"
  venv=target/bench/venv
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'matplotlib==3.11.*'
  fi
  "$venv/bin/python" scripts/bench/chart.py target/bench/results.json target/bench/performance.svg
  echo "chart: target/bench/performance.svg"
  if [ "$update_docs" = 1 ]; then
    cp target/bench/performance.svg docs/performance.svg
    echo "copied to docs/performance.svg"
  fi
fi
exit "$status"
