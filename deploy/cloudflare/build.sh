#!/usr/bin/env bash
# Builds the Worker into build/: build/index.js (the entry module wrangler uploads) and
# the wasm module beside it, with worker-build (workers-rs's own build tool) in release
# mode.
#
# worker-build would download wasm-bindgen, esbuild and wasm-opt release binaries; the
# two it needs are given instead through its documented *_BIN overrides, each from a
# package registry: wasm-bindgen from `cargo install wasm-bindgen-cli` at the exact
# wasm-bindgen version of Cargo.lock, esbuild from the npm packages wrangler brings
# (`npm ci` here). wasm-opt is skipped (--no-opt): the size measured is without it.
set -euo pipefail
cd "$(dirname "$0")"
[ -x node_modules/.bin/esbuild ] || { echo "build.sh: run npm ci in deploy/cloudflare first" >&2; exit 1; }
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN WASM_BINDGEN_BIN
exec worker-build --release --no-opt
