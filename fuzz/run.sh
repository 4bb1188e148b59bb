#!/usr/bin/env bash
# Runs every fuzz target one after another for SECONDS each (default 900: 15 minutes),
# growing fuzz/corpus/<target>/ from it and from fuzz/corpus-raw/<target>/ (make-seeds.sh), and
# prints libFuzzer's final stats. Crashes land in fuzz/artifacts/<target>/.
#   RUSTC_BOOTSTRAP=1 fuzz/run.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz; builds with the installed stable toolchain (RUSTC_BOOTSTRAP=1 lets it
# take the -Z sanitizer flags). CARGO_TARGET_DIR picks the build directory.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
secs="${1:-900}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(native_state authjs_jwe envelope origin_pattern target_url params decide)
tdir="${CARGO_TARGET_DIR:-target}"
cargo fuzz build --target-dir "$tdir"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "corpus-raw/$t" "artifacts/$t"
  bin="$tdir/x86_64-unknown-linux-gnu/release/$t"
  echo "==> $t for ${secs}s"
  "$bin" "corpus/$t" "corpus-raw/$t" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" -rss_limit_mb=2048 2>&1 | tee "${TMPDIR:-/tmp}/fuzz-$t.log" \
    | grep -E '^#[0-9]+ +(INITED|DONE)|stat::|==ERROR|panicked|SUMMARY' || true
done
