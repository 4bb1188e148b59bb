#!/usr/bin/env bash
# The Next.js end-to-end test: a real Next.js app with next-auth v5 (this directory),
# built with `next build` and served by `next start` behind a TLS-terminating proxy,
# signs in through the relay binary (nextjs.test.mjs says which setups).
#
# The build is cached: `next build` runs only when .next/BUILD_ID is missing or older
# than one of the app's sources, next.config.mjs, package.json or package-lock.json.
# Builds no relay: the caller does (see tests/node/run.sh). Needs the Node packages of
# this directory and of tests/node (scripts/install-deps installs both) and openssl for
# the proxy's certificate; /usr/bin/chromium for the browser part (skipped without it
# unless CI is set).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

AUTHRELAY_BIN="$(relay_bin)"
export AUTHRELAY_BIN
export NEXT_TELEMETRY_DISABLED=1

for dir in tests/nextjs tests/node; do
  [ -d "$dir/node_modules" ] || abort "Node packages missing; run: (cd $dir && npm ci)"
done
command -v openssl >/dev/null || abort "openssl is required for the test proxy's certificate"

cd tests/nextjs
stamp=.next/BUILD_ID
stale=""
if [ ! -f "$stamp" ]; then
  stale="no build yet"
elif [ -n "$(find app auth.js next.config.mjs package.json package-lock.json -newer "$stamp" -print -quit)" ]; then
  stale="sources changed"
fi
if [ -n "$stale" ]; then
  echo "next build ($stale)"
  started=$(date +%s)
  node node_modules/next/dist/bin/next build
  echo "next build took $(($(date +%s) - started)) s"
else
  echo "next build skipped: .next is newer than the sources and the lockfile"
fi

# `next start` runs the server in a child of its own (`next-server`), which outlives the
# test when the test is killed (by its timeout, say). Any such server of this app, left by
# an earlier run or by this one, is killed before and after the test.
kill_app_servers() {
  local app proc pid
  app="$(pwd -P)"
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    [ "$pid" != $$ ] || continue
    [ "$(readlink "$proc/cwd" 2>/dev/null)" = "$app" ] || continue
    case "$(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null)" in
      next-server* | *node_modules/next/*) kill -9 "$pid" 2>/dev/null || true ;;
    esac
  done
}
kill_app_servers
trap kill_app_servers EXIT
# --test-force-exit: a server a failed test left running ends the run with its report,
# instead of holding it open until the timeout and losing the report.
timeout --kill-after=10 240 node --test --test-force-exit --test-timeout=180000 nextjs.test.mjs
