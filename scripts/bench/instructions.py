#!/usr/bin/env python3
"""User-space instructions per callback of a relay binary, counted by valgrind's callgrind.

    scripts/bench/instructions.py BINARY [--format native|authjs] [--requests N] [--path P]
                                         [--close]

Runs BINARY twice under `valgrind --tool=callgrind` on 127.0.0.1 with the production-like
settings of load.py (JSON logs, to a file under target/bench). Each run sends 200 warm-up
callbacks over one keep-alive connection; the second sends N more (default 1000). Both
are stopped with SIGTERM, and the difference of the two runs' totals, divided by N, is
the instructions per request, every thread of the process counted. (Taking the
difference of whole runs needs no `callgrind_control`, whose dumps depend on valgrind's
version and on ptrace being allowed.)

Unlike requests per second, the count does not move with the load of a shared machine, so
two binaries can be compared one after the other. It counts instructions, not time:
valgrind runs SHA-256 without the CPU's SHA instructions, so the native format's MAC
counts more here than it costs. `--path /healthz` measures the framework alone.
`--close` sends `Connection: close` with every request, so that a binary that keeps
connections alive is measured with a connection per request, as the relay serves them.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
TARGET = "https://pr-1234.preview.example.com/api/auth/callback/github"
CODE = "8f1c2a9b7e6d5c4b3a29"
WARMUP = 200


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HEADERS = {}


def send(port, path, count):
    # http.client opens a new connection when the server closed the last one.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(count):
            c.request("GET", path, headers=HEADERS)
            r = c.getresponse()
            r.read()
            if r.status not in (200, 302):
                sys.exit(f"instructions: {path[:40]}… answered {r.status}")
    finally:
        c.close()


def run(binary, env, path, count, out, tag):
    """Instructions of one whole run: start, warm up, `count` more requests, SIGTERM."""
    port = free_port()
    serve_env = dict(env, AUTH_URL="https://auth.example.com",
                     AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS="https://*.preview.example.com",
                     HOST="127.0.0.1", PORT=str(port), LOG_FORMAT="json", RUST_LOG="info")
    dump = out / f"callgrind.{os.getpid()}.{tag}"
    dump.unlink(missing_ok=True)
    with open(out / f"instructions-relay.{tag}.log", "w") as log:
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}", binary, "serve"],
            env=serve_env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                send(port, "/healthz", 1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    sys.exit("instructions: the relay did not start under valgrind")
                time.sleep(0.1)
        send(port, path(port), WARMUP + count)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    found = re.search(r"^(?:totals|summary): (\d+)", dump.read_text(), re.M)
    if not found:
        sys.exit(f"instructions: no counter totals in {dump}")
    return int(found.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--format", choices=("native", "authjs"), default="native")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--path", help="request this path instead of a callback")
    ap.add_argument("--close", action="store_true",
                    help="send Connection: close: one request per connection")
    args = ap.parse_args()
    if args.close:
        HEADERS["Connection"] = "close"
    if not shutil.which("valgrind"):
        sys.exit("instructions: valgrind is needed (apt-get install valgrind)")
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "AUTH_SECRET": SECRET, "AUTH_STATE_MAX_AGE": "3600"}
    state = subprocess.check_output(
        [args.binary, "sign", "--target", TARGET, "--provider", "github", "--ttl", "3600",
         "--format", args.format], env=env, text=True).strip()
    path = lambda _port: args.path or f"/api/auth/callback/github?code={CODE}&state={state}"
    base = run(args.binary, env, path, 0, out, "base")
    full = run(args.binary, env, path, args.requests, out, "full")
    what = args.path or f"{args.format} callback"
    print(f"{what}: {(full - base) / args.requests:,.0f} instructions per request "
          f"({args.requests} requests after {WARMUP} warm-up, two runs' difference)")


if __name__ == "__main__":
    main()
