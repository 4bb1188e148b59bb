#!/usr/bin/env bash
# Builds the Worker: the crate for wasm32-unknown-unknown (release), then wasm-bindgen's
# JavaScript glue for it into build/ (authrelay.js, authrelay_bg.wasm). entry.js, the
# Worker's entry module, imports both; wrangler bundles them on `wrangler dev` and
# `wrangler deploy`.
#
# This is what worker-build (workers-rs's build tool) does, done by hand: worker-build
# downloads wasm-bindgen, esbuild and wasm-opt release binaries from outside the package
# registries, and building worker-build itself from its crate took over 20 minutes on
# this project's two shared cores. wasm-bindgen comes from `cargo install
# wasm-bindgen-cli` at exactly the wasm-bindgen version of Cargo.lock (the two must
# match); wasm-opt is not run, so the size measured is without it.
set -euo pipefail
cd "$(dirname "$0")"
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null || true)"
[ "$have" = "wasm-bindgen $want" ] || {
  echo "build.sh: needs wasm-bindgen $want (cargo install wasm-bindgen-cli@$want), found: ${have:-none}" >&2
  exit 1
}
cargo build --lib --release --target wasm32-unknown-unknown --locked
wasm-bindgen --target web --no-typescript --out-dir build --out-name authrelay \
  target/wasm32-unknown-unknown/release/authrelay_cloudflare.wasm
