"""Shared by the Python fault tools: start a relay on 127.0.0.1, make a state, read RSS,
trickle bytes at it, and judge the run.

Only loopback is ever contacted, and every loop in these tools is bounded in count and
time and stops by itself.
"""

import asyncio
import atexit
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request

LIB_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib.sh")


def relay_bin():
    """The relay binary, as every script picks it: relay_bin in scripts/lib.sh
    ($AUTHRELAY_BIN, else the most recent build; under CI the static musl one)."""
    out = subprocess.run(
        ["bash", "-c", 'source "$1" && relay_bin', "relaylib", LIB_SH],
        stdout=subprocess.PIPE,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit("FAIL: no relay binary to test (see above)")
    return out.stdout.strip()


BIN = relay_bin()
OUT = os.environ.get("FAULTS_OUT", os.path.join(os.environ.get("TMPDIR", "/tmp"), "authrelay-faults"))
SECRET = os.environ.get("FAULT_SECRET", "fault-test-secret-0123456789abcdef0123")
PREVIEW_CALLBACK = "http://localhost:5173/api/auth/callback/github"
HOST = "127.0.0.1"

os.makedirs(OUT, exist_ok=True)


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    """A relay process on a free loopback port, logging JSON to a file; with `nofile`, under
    that soft limit of open files."""

    def __init__(self, name, extra_env=None, nofile=None):
        self.port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AUTH_SECRET": SECRET,
            "AUTH_URL": "https://auth.example.test/api/auth",
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS": "http://localhost:*",
            "AUTH_STATE_MAX_AGE": "3600",
            "HOST": HOST,
            "PORT": str(self.port),
            "LOG_FORMAT": "json",
            "RUST_LOG": os.environ.get("RELAY_LOG", "info"),
        }
        env.update(extra_env or {})
        self.log_path = os.path.join(OUT, f"{name}.log")
        self.log = open(self.log_path, "wb")
        def limit_files():
            if nofile is not None:
                hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

        self.proc = subprocess.Popen(
            [BIN, "serve"], env=env, stdout=self.log, stderr=self.log, preexec_fn=limit_files
        )
        # Whatever happens to the tool (an exception, a failed check), the relay it
        # started is stopped when it exits.
        atexit.register(self.stop)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"FAIL: the relay exited at start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("FAIL: the relay did not answer /healthz within 10 s")

    @property
    def pid(self):
        return self.proc.pid

    def rss_kib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def make_state(ttl=3600):
    out = subprocess.run(
        [BIN, "sign", "--target", PREVIEW_CALLBACK, "--provider", "github", "--ttl", str(ttl)],
        env={"AUTH_SECRET": SECRET, "AUTH_STATE_MAX_AGE": "3600"},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def callback_request(state, close=True):
    """A raw GET of a valid callback."""
    conn = "close" if close else "keep-alive"
    return (
        f"GET /api/auth/callback/github?code=fault-code&state={state} HTTP/1.1\r\n"
        f"Host: {HOST}\r\nConnection: {conn}\r\n\r\n"
    ).encode()


def read_response(sock, deadline):
    """Reads one HTTP response (head and Content-Length body). Returns (status, bytes) or
    raises ConnectionError / TimeoutError / EOFError."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("closed before a response" if not buf else "closed mid-head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("closed mid-body")
        body += chunk
    return status, buf


def says_close(raw):
    """Whether a response's head (bytes, as read_response returns it) has
    `Connection: close`."""
    head = raw.partition(b"\r\n\r\n")[0].lower()
    return any(
        line.partition(b":")[0].strip() == b"connection" and b"close" in line.partition(b":")[2]
        for line in head.split(b"\r\n")[1:]
    )


def write_report(name, report, **details):
    """Prints `report` on one line and writes it, with `details`, to $FAULTS_OUT/NAME.json."""
    print(f"{name}:", json.dumps(report))
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({"report": report, **details}, f, indent=1)


async def send_byte(writer, data, i):
    """Writes byte `i` of `data` alone and waits until it drains; returns i + 1."""
    writer.write(data[i:i + 1])
    await writer.drain()
    return i + 1


async def wait_set(event, timeout):
    """Waits at most `timeout` seconds for `event`; returns whether it is set."""
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        pass
    return event.is_set()


def verdict(name, failures, passed=""):
    """Prints each failure, or NAME: PASS; returns the tool's exit status."""
    for failure in failures:
        print("FAIL:", failure)
    if not failures:
        print(f"{name}: PASS{passed}")
    return 1 if failures else 0


def judge(name, checks, passed=""):
    """`checks` are (failed, failure) pairs, in the order to print them: the verdict on the
    failures of the checks that failed."""
    return verdict(name, [failure for failed, failure in checks if failed], passed)


def run(main):
    """Exits the process with the status `main()` returns."""
    sys.exit(main())
