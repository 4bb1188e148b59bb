# shellcheck shell=bash
# Shared by the project's shell scripts; source it, do not run it:
#
#   source "$(dirname "$0")/lib.sh"        # or the path from wherever the script lives
#
# It gives them one way to print steps and errors, to tell whether CI is running, to
# install Debian packages, and to find the relay binary the tests run. It defines
# functions and a few variables only; it changes no directory and no shell option.

AUTHRELAY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The target deploy/Dockerfile builds the relay for: a static musl binary.
MUSL_TARGET=x86_64-unknown-linux-musl

step() { printf '\n==> %s\n' "$*"; }
# say MESSAGE: to standard error, prefixed with the script's name.
say() { printf '%s: %s\n' "${0#./}" "$*" >&2; }
abort() { say "$*"; exit 1; }

# in_ci: true when CI is set to anything but "", 0, false or no (CI=true on CI services).
in_ci() {
  case "${CI:-}" in
    "" | 0 | false | no) return 1 ;;
    *) return 0 ;;
  esac
}

# apt_install PACKAGE...: installs Debian packages. The first call in a run does
# `apt-get update`, the later ones do not, also in the scripts the run starts: they share
# the stamp file AUTHRELAY_APT_STAMP names. Returns 1, saying why, when not root or
# without apt-get.
export AUTHRELAY_APT_STAMP="${AUTHRELAY_APT_STAMP:-${TMPDIR:-/tmp}/authrelay-apt-updated.$$.$(date +%s%N)}"
apt_install() {
  if ! command -v apt-get >/dev/null; then
    say "cannot install $* here (no apt-get): please install it"
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    say "cannot install $* (not root): please run apt-get install -y $* as root"
    return 1
  fi
  if [ ! -e "$AUTHRELAY_APT_STAMP" ]; then
    apt-get update -qq || return 1
    : >"$AUTHRELAY_APT_STAMP"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# need COMMAND [PACKAGE...]: makes sure COMMAND is on PATH, installing the packages
# (default: the package named like the command) if it is not; exits if that fails.
need() {
  local cmd="$1"
  shift
  command -v "$cmd" >/dev/null && return 0
  apt_install "${@:-$cmd}" || abort "$cmd is required"
  command -v "$cmd" >/dev/null || abort "$cmd is still missing after installing ${*:-$cmd}"
}

# relay_bin [--build]: prints the absolute path of the relay binary to test.
#
#  - $AUTHRELAY_BIN when it is set (it must be an executable file);
#  - else the most recently built of these, under $CARGO_TARGET_DIR (default target/):
#      x86_64-unknown-linux-musl/release/authrelay   static, what the image ships
#                                                    (scripts/check-deploy builds it)
#      x86_64-unknown-linux-gnu/release/authrelay    static glibc (check-deploy without
#                                                    the musl target)
#      release/authrelay, debug/authrelay            cargo build [--release]
#    the first of them on a tie; with --build, when there is none, it builds
#    release/authrelay first.
#
# Under CI only the static musl binary will do: $AUTHRELAY_BIN, if set, must be it, and
# without it relay_bin fails. Elsewhere it says so when it picks another one by itself.
# shellcheck disable=SC2120 # its one argument, --build, is optional
relay_bin() {
  local build="" target_dir bin="" candidate musl
  [ "${1:-}" = --build ] && build=1
  target_dir="${CARGO_TARGET_DIR:-target}"
  case "$target_dir" in /*) ;; *) target_dir="$AUTHRELAY_ROOT/$target_dir" ;; esac
  musl="$target_dir/$MUSL_TARGET/release/authrelay"

  if [ -n "${AUTHRELAY_BIN:-}" ]; then
    if [ ! -f "$AUTHRELAY_BIN" ] || [ ! -x "$AUTHRELAY_BIN" ]; then
      say "AUTHRELAY_BIN=$AUTHRELAY_BIN is not an executable file"
      return 1
    fi
    bin="$(cd "$(dirname "$AUTHRELAY_BIN")" && pwd)/$(basename "$AUTHRELAY_BIN")"
  elif in_ci; then
    bin="$musl"
  else
    for candidate in "$musl" "$target_dir/x86_64-unknown-linux-gnu/release/authrelay" \
      "$target_dir/release/authrelay" "$target_dir/debug/authrelay"; do
      if [ -x "$candidate" ] && { [ -z "$bin" ] || [ "$candidate" -nt "$bin" ]; }; then
        bin="$candidate"
      fi
    done
    if [ -z "$bin" ] && [ -n "$build" ]; then
      say "no relay binary; building it: cargo build --release --locked --bin authrelay"
      cargo build --manifest-path "$AUTHRELAY_ROOT/Cargo.toml" --release --locked --bin authrelay >&2 || return 1
      bin="$target_dir/release/authrelay"
    fi
  fi

  if in_ci; then
    if [ ! -x "$musl" ]; then
      say "CI tests the static musl binary, and $musl is not built: run scripts/check-deploy first"
      return 1
    elif ! [ "$bin" -ef "$musl" ]; then
      say "CI tests the static musl binary $musl, not AUTHRELAY_BIN=$bin"
      return 1
    fi
  elif [ -z "$bin" ]; then
    say "no relay binary; build it first: cargo build --release --bin authrelay (or scripts/check-deploy for the static one)"
    return 1
  elif [ -z "${AUTHRELAY_BIN:-}" ] && ! [ "$bin" -ef "$musl" ]; then
    say "note: testing $bin, not the static musl binary the image ships (scripts/check-deploy builds that; CI requires it)"
  fi
  printf '%s\n' "$bin"
}
