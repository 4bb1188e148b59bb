#!/usr/bin/env python3
"""Load comparison of authrelay, the stable Auth.js deployment and a bare actix-web server.

Run through scripts/bench/load.sh, which builds the binaries and installs wrk first. This
driver only talks to loopback addresses, bounds every load run in time, and stops every
process it started (by its own handle) before it exits.

What it measures, each on the same callback request with a valid state:
  relay-native   authrelay, native state
  relay-authjs   authrelay, Auth.js state
  authjs         the stable Auth.js deployment (@auth/express, redirectProxyUrl = itself),
                 Auth.js state (the only format it reads)
  ceiling-native the bare actix-web 302 server, same request as relay-native
  ceiling-authjs the same, same request as relay-authjs
with wrk (2 threads, 32 connections), runs interleaved, medians reported. Every request
carries `Connection: close`, so that every server pays for a connection per request: the
relay serves one request per connection (a browser reaches it once per sign-in), and the
others are measured the same way (`--keep-alive` lets them keep connections instead).
Then: time from process start to /readyz answering, binary size, and RSS idle and across
a million requests.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
PROVIDER = "github"
TARGET = f"https://pr-1234.preview.example.com/api/auth/callback/{PROVIDER}"
ALLOWED = "https://*.preview.example.com"
CALLBACK_PATH = f"/api/auth/callback/{PROVIDER}"
# A code as long as GitHub's (20 hex characters).
CODE = "8f1c2a9b7e6d5c4b3a29"
THREADS = 2
CONNECTIONS = 32
# wrk's extra arguments: `Connection: close` on every request, unless --keep-alive.
WRK_HEADERS = ["-H", "Connection: close"]
STATE_TTL = 3600

# The targets.
TARGETS = {
    "x_authjs": 50.0,  # relay throughput / Auth.js stable proxy throughput
    "ceiling_native": 0.60,  # relay-native / ceiling
    "ceiling_authjs": 0.50,  # relay-authjs / ceiling
    "p99_vs_ceiling": 2.0,  # relay p99 / ceiling p99, at most
    "rss_mb_after_1m": 20.0,
    "ready_ms": 50.0,
    "binary_mb": 8.0,
}

started = []  # every process this driver started, to stop on the way out


def log(msg):
    print(f"[load] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def stop(proc, grace=5.0):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_all():
    for p in reversed(started):
        stop(p)


def spawn(argv, env, log_path=None):
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(argv, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    started.append(p)
    return p


def http_get(port, path, timeout=2.0):
    """A minimal HTTP/1.1 GET on loopback: (status, headers dict, body bytes)."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def wait_ready(port, path, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a server exited early with status {proc.returncode}")
        try:
            status, _, _ = http_get(port, path, timeout=1.0)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"server on port {port} not ready after {timeout} s")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])  # kB
    return out


def relay_env(secret, port, extra=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AUTH_SECRET": secret,
        "AUTH_URL": "https://auth.example.com",
        "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS": ALLOWED,
        "AUTH_STATE_MAX_AGE": str(STATE_TTL),
        "HOST": LOOPBACK,
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "RUST_LOG": "info",
    }
    env.update(extra or {})
    return env


def sign(relay_bin, secret, fmt):
    # `sign` refuses a lifetime over the relay's AUTH_STATE_MAX_AGE.
    env = {"PATH": os.environ.get("PATH", ""), "AUTH_SECRET": secret,
           "AUTH_STATE_MAX_AGE": str(STATE_TTL)}
    return subprocess.run(
        [relay_bin, "sign", "--target", TARGET, "--provider", PROVIDER,
         "--ttl", str(STATE_TTL), "--format", fmt],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()


def curl_check(name, port, path, want_prefix):
    """Once, with curl: the request that is loaded answers 302 to the state's origin."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
         "--max-time", "10", f"http://{LOOPBACK}:{port}{path}"],
        check=True, capture_output=True, text=True,
    ).stdout
    code, _, location = out.partition(" ")
    ok = code == "302" and location.startswith(want_prefix)
    log(f"check {name}: {code} {location[:90]}{'…' if len(location) > 90 else ''} "
        f"{'ok' if ok else 'FAILED'}")
    if not ok:
        raise SystemExit(f"{name} does not bounce the benchmark request to {want_prefix}")
    return {"status": int(code), "location_prefix_ok": ok}


WRK_JSON = re.compile(r"^WRK_JSON (\{.*\})$", re.M)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a whole process (every thread), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wrk(port, path, seconds, lua=HERE / "report.lua", pid=None):
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
            "--timeout", "5s", *WRK_HEADERS, "-s", str(lua), f"http://{LOOPBACK}:{port}{path}"]
    cpu0 = cpu_seconds(pid) if pid else None
    out = subprocess.run(argv, check=True, capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    cpu1 = cpu_seconds(pid) if pid else None
    m = WRK_JSON.search(out)
    if not m:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors_total"] = sum(r["errors"].values())
    if pid and r["requests"]:
        # The server's own CPU per request: far steadier than req/s on a shared machine.
        r["cpu_us_per_req"] = (cpu1 - cpu0) * 1e6 / r["requests"]
    return r


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def bounces_total(port):
    _, _, body = http_get(port, "/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("authrelay_bounces_total"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def measure_ready(relay_bin, secret, starts, log_path):
    """Time from fork+exec to /readyz answering 200, polled in a tight bounded loop."""
    times = []
    for _ in range(starts):
        port = free_port()
        env = relay_env(secret, port)
        t0 = time.perf_counter()
        p = spawn([relay_bin, "serve"], env, log_path)
        ready = None
        deadline = t0 + 5.0
        while time.perf_counter() < deadline:
            try:
                with socket.create_connection((LOOPBACK, port), timeout=0.5) as s:
                    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(16).startswith(b"HTTP/1.1 200"):
                        ready = time.perf_counter()
                        break
            except OSError:
                time.sleep(0.0002)
        stop(p)
        started.remove(p)
        if ready is None:
            raise SystemExit("the relay did not become ready within 5 s")
        times.append((ready - t0) * 1000)
    return {"starts": starts, "median_ms": statistics.median(times),
            "min_ms": min(times), "max_ms": max(times), "all_ms": times}


def soak(relay_bin, secret, path, total, checkpoints, log_path, bound_s):
    """A fresh relay, loaded until `total` callbacks; RSS sampled at each checkpoint."""
    port = free_port()
    p = spawn([relay_bin, "serve"], relay_env(secret, port), log_path)
    wait_ready(port, "/readyz", p)
    # Idle: started and ready, and one callback served (so that lazily built state, like
    # the metric label set, exists), then a moment's rest.
    http_get(port, path)
    time.sleep(0.5)
    idle = proc_status(p.pid)
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{bound_s}s", *WRK_HEADERS,
            f"http://{LOOPBACK}:{port}{path}"]
    w = spawn(argv, {"PATH": os.environ.get("PATH", "")})
    samples = []
    pending = list(checkpoints)
    t0 = time.monotonic()
    n = 0
    while pending and w.poll() is None:
        time.sleep(0.2)
        n = bounces_total(port)
        while pending and n >= pending[0]:
            st = proc_status(p.pid)
            samples.append({"requests": n, "rss_kb": st["VmRSS"], "hwm_kb": st["VmHWM"],
                            "t_s": round(time.monotonic() - t0, 2)})
            log(f"soak: {n} requests, RSS {st['VmRSS'] / 1024:.1f} MB")
            pending.pop(0)
    stop(w)
    started.remove(w)
    n = bounces_total(port)
    final = proc_status(p.pid)
    stop(p)
    started.remove(p)
    if pending:
        log(f"soak: stopped at {n} requests before reaching {pending}")
    return {"requests": n, "idle_rss_kb": idle["VmRSS"], "samples": samples,
            "final_rss_kb": final["VmRSS"], "peak_rss_kb": final["VmHWM"],
            "reached": not pending}


def med(runs, key, sub=None):
    vals = [r[key][sub] if sub else r[key] for r in runs]
    return statistics.median(vals)


def summarize(runs_by_cfg):
    out = {}
    for name, runs in runs_by_cfg.items():
        out[name] = {
            "runs": len(runs),
            "rps": med(runs, "rps"),
            "rps_all": [round(r["rps"]) for r in runs],
            "p50_ms": med(runs, "latency_us", "p50") / 1000,
            "p99_ms": med(runs, "latency_us", "p99") / 1000,
            "p99_9_ms": med(runs, "latency_us", "p99_9") / 1000,
            "errors": sum(r["errors_total"] for r in runs),
            "cpu_us_per_req": statistics.median(r.get("cpu_us_per_req", 0) for r in runs),
        }
    return out


def fmt_num(x, digits=0):
    return f"{x:,.{digits}f}"


def markdown(res):
    s = res["servers"]
    r = res["ratios"]
    lines = [
        f"# authrelay load results ({'quick' if res['quick'] else 'full'} run)",
        "",
        f"- machine: {res['machine']['nproc']} cores, {res['machine']['cpu_model']}, "
        f"{res['machine']['mem_total_gib']} GiB; kernel {res['machine']['kernel']}",
        f"- load average before / after: {res['loadavg_before']} / {res['loadavg_after']}",
        f"- wrk: {THREADS} threads, {CONNECTIONS} connections, {res['duration_s']} s per run, "
        f"{res['runs']} interleaved runs per server; "
        f"{'keep-alive allowed' if not WRK_HEADERS else 'Connection: close on every request'}; medians below",
        "",
        "| server | state | req/s (median) | runs req/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | peak RSS MB | errors |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "relay-native": ("authrelay", "native"),
        "relay-authjs": ("authrelay", "Auth.js"),
        "authjs": ("Auth.js stable (@auth/express)", "Auth.js"),
        "ceiling-native": ("bare actix-web 302", "(native URL)"),
        "ceiling-authjs": ("bare actix-web 302", "(Auth.js URL)"),
        "baseline-native": ("authrelay, baseline binary", "native"),
        "baseline-authjs": ("authrelay, baseline binary", "Auth.js"),
    }
    for name, (server, state) in labels.items():
        if name not in s:
            continue
        v = s[name]
        rss = res["peak_rss_mb"][name.split("-")[0] if name != "authjs" else "authjs"]
        lines.append(
            f"| {server} | {state} | {fmt_num(v['rps'])} | {', '.join(fmt_num(x) for x in v['rps_all'])} "
            f"| {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['p99_9_ms']:.2f} | {v['cpu_us_per_req']:.1f} "
            f"| {rss:.1f} | {v['errors']} |"
        )
    lines += [
        "",
        "| ratio | value |",
        "|---|---:|",
        f"| authrelay (native) / Auth.js stable | {r['native_vs_authjs']:.1f}× |",
        f"| authrelay (Auth.js state) / Auth.js stable | {r['authjs_vs_authjs']:.1f}× |",
        f"| authrelay (native) / ceiling | {r['native_vs_ceiling'] * 100:.0f} % |",
        f"| authrelay (Auth.js state) / ceiling | {r['authjs_vs_ceiling'] * 100:.0f} % |",
        f"| p99 authrelay (native) / ceiling | {r['p99_native_vs_ceiling']:.2f}× |",
        f"| p99 authrelay (Auth.js state) / ceiling | {r['p99_authjs_vs_ceiling']:.2f}× |",
    ]
    for f, state in (("native", "native"), ("authjs", "Auth.js state")):
        if f"{f}_cpu_vs_baseline" in r:
            lines += [
                f"| server CPU per request, authrelay / baseline ({state}) | {r[f'{f}_cpu_vs_baseline']:.3f} |",
                f"| req/s, authrelay / baseline ({state}) | {r[f'{f}_rps_vs_baseline']:.3f} |",
            ]
    lines += [
        "",
        f"- ready (process start to `/readyz` 200), median of {res['ready']['starts']}: "
        f"{res['ready']['median_ms']:.1f} ms (min {res['ready']['min_ms']:.1f}, max {res['ready']['max_ms']:.1f})",
        f"- binary: {res['binary']['built_bytes'] / 1e6:.2f} MB as built, "
        f"{res['binary']['stripped_bytes'] / 1e6:.2f} MB after `strip`",
        f"- soak ({res['soak']['requests']:,} requests, native): idle RSS "
        f"{res['soak']['idle_rss_kb'] / 1024:.1f} MB; "
        + ", ".join(f"{x['requests']:,}: {x['rss_kb'] / 1024:.1f} MB" for x in res["soak"]["samples"])
        + f"; peak {res['soak']['peak_rss_kb'] / 1024:.1f} MB",
        "",
        "| target | value | met |",
        "|---|---:|---|",
    ]
    for t in res["targets"]:
        lines.append(f"| {t['name']} | {t['value']} | {'yes' if t['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def evaluate(res):
    s, r = res["servers"], res["ratios"]
    soak_s = res["soak"]["samples"]
    last_half = [x for x in soak_s if x["requests"] >= res["soak_total"] // 2]
    growth_kb = (last_half[-1]["rss_kb"] - last_half[0]["rss_kb"]) if len(last_half) >= 2 else None
    after = soak_s[-1]["rss_kb"] / 1024 if soak_s else float("nan")
    t = [
        # The 50× target is for native states; the Auth.js-state ratio is in the ratios
        # table, not a target.
        ("throughput ≥ 50× Auth.js stable (native state)",
         f"{r['native_vs_authjs']:.1f}×", r["native_vs_authjs"] >= TARGETS["x_authjs"]),
        ("native ≥ 60 % of ceiling", f"{r['native_vs_ceiling'] * 100:.0f} %",
         r["native_vs_ceiling"] >= TARGETS["ceiling_native"]),
        ("Auth.js state ≥ 50 % of ceiling", f"{r['authjs_vs_ceiling'] * 100:.0f} %",
         r["authjs_vs_ceiling"] >= TARGETS["ceiling_authjs"]),
        ("p99 ≤ 2× ceiling p99 (native)", f"{r['p99_native_vs_ceiling']:.2f}×",
         r["p99_native_vs_ceiling"] <= TARGETS["p99_vs_ceiling"]),
        ("p99 ≤ 2× ceiling p99 (Auth.js state)", f"{r['p99_authjs_vs_ceiling']:.2f}×",
         r["p99_authjs_vs_ceiling"] <= TARGETS["p99_vs_ceiling"]),
        (f"RSS < 20 MB after {res['soak_total']:,} requests", f"{after:.1f} MB",
         after < TARGETS["rss_mb_after_1m"]),
        ("no RSS growth across the last half of the soak",
         "n/a" if growth_kb is None else f"{growth_kb:+d} kB",
         growth_kb is not None and growth_kb <= 256),
        ("ready < 50 ms", f"{res['ready']['median_ms']:.1f} ms",
         res["ready"]["median_ms"] < TARGETS["ready_ms"]),
        ("binary < 8 MB stripped", f"{res['binary']['stripped_bytes'] / 1e6:.2f} MB",
         res["binary"]["stripped_bytes"] / 1e6 < TARGETS["binary_mb"]),
    ]
    return [{"name": n, "value": v, "met": bool(m)} for n, v, m in t]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--relay", required=True, help="the release authrelay binary")
    ap.add_argument("--ceiling", required=True, help="the release bare_ceiling example")
    ap.add_argument("--out", default=str(ROOT / "target" / "bench"))
    ap.add_argument("--quick", action="store_true", help="CI smoke run: 1 run of 3 s each")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--duration", type=int, help="seconds per wrk run")
    ap.add_argument("--soak", type=int, help="requests in the soak run")
    ap.add_argument("--ready-starts", type=int)
    ap.add_argument("--keep-alive", action="store_true",
                    help="let wrk keep connections open (the relay closes each one anyway)")
    ap.add_argument("--baseline", help="another authrelay binary (an earlier commit's), "
                    "measured in the same runs as --relay, interleaved with it")
    args = ap.parse_args()

    quick = args.quick
    if args.keep_alive:
        WRK_HEADERS.clear()
    runs = args.runs or (1 if quick else 5)
    duration = args.duration or (3 if quick else 10)
    soak_total = args.soak or (100_000 if quick else 1_000_000)
    ready_starts = args.ready_starts or (5 if quick else 20)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in ("relay.log", "soak-relay.log", "ready-relay.log", "authjs.log", "ceiling.log"):
        (out / f).unlink(missing_ok=True)

    t_start = time.monotonic()
    res = {"quick": quick, "runs": runs, "duration_s": duration, "soak_total": soak_total,
           "machine": machine(), "loadavg_before": loadavg(),
           "threads": THREADS, "connections": CONNECTIONS}
    log(f"{res['machine']['nproc']} cores, {res['machine']['cpu_model']}; load average {res['loadavg_before']}")

    secret = subprocess.run([args.relay, "secret"], check=True, capture_output=True,
                            text=True).stdout.strip()
    states = {"native": sign(args.relay, secret, "native"),
              "authjs": sign(args.relay, secret, "authjs")}
    paths = {f: f"{CALLBACK_PATH}?code={CODE}&state={s}" for f, s in states.items()}
    res["state_lengths"] = {f: len(s) for f, s in states.items()}

    ports = {"relay": free_port(), "authjs": free_port(), "ceiling": free_port()}
    if args.baseline:
        ports["baseline"] = free_port()
    procs = {
        "relay": spawn([args.relay, "serve"], relay_env(secret, ports["relay"]), out / "relay.log"),
        "authjs": spawn(
            ["node", str(HERE / "authjs-stable.mjs")],
            {"PATH": os.environ.get("PATH", ""), "AUTH_SECRET": secret, "HOST": LOOPBACK,
             "PORT": str(ports["authjs"]), "NODE_ENV": "production"},
            out / "authjs.log"),
        "ceiling": spawn([args.ceiling], {"HOST": LOOPBACK, "PORT": str(ports["ceiling"])},
                         out / "ceiling.log"),
    }
    if args.baseline:
        procs["baseline"] = spawn([args.baseline, "serve"], relay_env(secret, ports["baseline"]),
                                  out / "baseline.log")
        wait_ready(ports["baseline"], "/readyz", procs["baseline"])
    wait_ready(ports["relay"], "/readyz", procs["relay"])
    wait_ready(ports["authjs"], "/api/auth/providers", procs["authjs"])
    wait_ready(ports["ceiling"], "/", procs["ceiling"])

    configs = {
        "relay-native": ("relay", paths["native"]),
        "relay-authjs": ("relay", paths["authjs"]),
        "authjs": ("authjs", paths["authjs"]),
        "ceiling-native": ("ceiling", paths["native"]),
        "ceiling-authjs": ("ceiling", paths["authjs"]),
    }
    if args.baseline:
        configs["baseline-native"] = ("baseline", paths["native"])
        configs["baseline-authjs"] = ("baseline", paths["authjs"])
    res["checks"] = {
        name: curl_check(name, ports[server], path, TARGET + "?")
        for name, (server, path) in configs.items() if not name.startswith("ceiling")
    }
    # The ceiling's fixed Location is not the state's origin; it must still be a 302.
    for name in ("ceiling-native", "ceiling-authjs"):
        st, _, _ = http_get(ports["ceiling"], configs[name][1])
        if st != 302:
            raise SystemExit(f"{name} answered {st}")

    log("warm-up: 1 s per configuration")
    for name, (server, path) in configs.items():
        wrk(ports[server], path, 1)

    runs_by_cfg = {name: [] for name in configs}
    for i in range(runs):
        for name, (server, path) in configs.items():
            r = wrk(ports[server], path, duration, pid=procs[server].pid)
            r["server_status_kb"] = proc_status(procs[server].pid)
            runs_by_cfg[name].append(r)
            log(f"run {i + 1}/{runs} {name:15} {r['rps']:>10,.0f} req/s  "
                f"p50 {r['latency_us']['p50'] / 1000:.2f} ms  p99 {r['latency_us']['p99'] / 1000:.2f} ms  "
                f"p99.9 {r['latency_us']['p99_9'] / 1000:.2f} ms  "
                f"CPU {r.get('cpu_us_per_req', 0):.1f} µs/req  errors {r['errors_total']}")
    res["raw_runs"] = runs_by_cfg
    res["servers"] = summarize(runs_by_cfg)
    res["peak_rss_mb"] = {k: proc_status(p.pid)["VmHWM"] / 1024 for k, p in procs.items()}
    for k, p in procs.items():
        stop(p)
        started.remove(p)

    s = res["servers"]
    res["ratios"] = {
        "native_vs_authjs": s["relay-native"]["rps"] / s["authjs"]["rps"],
        "authjs_vs_authjs": s["relay-authjs"]["rps"] / s["authjs"]["rps"],
        "native_vs_ceiling": s["relay-native"]["rps"] / s["ceiling-native"]["rps"],
        "authjs_vs_ceiling": s["relay-authjs"]["rps"] / s["ceiling-authjs"]["rps"],
        "p99_native_vs_ceiling": s["relay-native"]["p99_ms"] / s["ceiling-native"]["p99_ms"],
        "p99_authjs_vs_ceiling": s["relay-authjs"]["p99_ms"] / s["ceiling-authjs"]["p99_ms"],
    }
    if args.baseline:
        for f in ("native", "authjs"):
            r, b = s[f"relay-{f}"], s[f"baseline-{f}"]
            res["ratios"][f"{f}_cpu_vs_baseline"] = r["cpu_us_per_req"] / b["cpu_us_per_req"]
            res["ratios"][f"{f}_rps_vs_baseline"] = r["rps"] / b["rps"]

    log(f"readiness: {ready_starts} starts")
    res["ready"] = measure_ready(args.relay, secret, ready_starts, out / "ready-relay.log")
    log(f"ready: median {res['ready']['median_ms']:.1f} ms")

    stripped = out / "authrelay.stripped"
    shutil.copyfile(args.relay, stripped)
    subprocess.run(["strip", str(stripped)], check=True)
    res["binary"] = {"built_bytes": os.path.getsize(args.relay),
                     "stripped_bytes": os.path.getsize(stripped)}
    stripped.unlink()

    checkpoints = [soak_total * k // 4 for k in (1, 2, 3, 4)]
    log(f"soak: {soak_total:,} requests")
    res["soak"] = soak(args.relay, secret, paths["native"], soak_total, checkpoints,
                       out / "soak-relay.log", bound_s=600 if not quick else 60)
    # The soak's log is a million lines; keep its tail only.
    soak_log = out / "soak-relay.log"
    if soak_log.exists() and soak_log.stat().st_size > 1 << 20:
        with open(soak_log, "rb") as f:
            f.seek(-(64 << 10), os.SEEK_END)
            tail = f.read()
        soak_log.write_bytes(tail)

    res["loadavg_after"] = loadavg()
    res["elapsed_s"] = round(time.monotonic() - t_start, 1)
    res["targets"] = evaluate(res)
    (out / "results.json").write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(res)
    (out / "results.md").write_text(md)
    print(md)
    log(f"wrote {out / 'results.json'} and {out / 'results.md'} in {res['elapsed_s']} s")

    # A smoke failure: answers other than 2xx/3xx, or socket errors on more than 0.1 %
    # of requests (a server that closes an idle keep-alive connection costs a few).
    bad = []
    for name, runs in res["raw_runs"].items():
        total = sum(r["requests"] for r in runs)
        status = sum(r["errors"]["status"] for r in runs)
        errors = sum(r["errors_total"] for r in runs)
        if status or errors > total / 1000:
            bad.append(f"{name} ({status} bad statuses, {errors} errors in {total} requests)")
    if bad:
        log(f"errors: {'; '.join(bad)}")
        return 1
    if not res["soak"]["reached"]:
        log("the soak run did not reach its request count")
        return 1
    return 0


if __name__ == "__main__":
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: (stop_all(), sys.exit(130)))
    try:
        sys.exit(main())
    finally:
        stop_all()
