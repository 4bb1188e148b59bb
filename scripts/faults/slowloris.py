#!/usr/bin/env python3
"""(c) Slow clients: slow-loris headers, byte-by-byte requests and slow bodies.

For DURATION seconds (default 20) the relay holds:
- 1,000 slow-loris connections, each sending one byte of a request head per second;
- 20 clients sending a whole valid callback request one byte every 100 ms;
- 100 form posts that announce a body and then send one byte of it per second;
while a normal client probes it 20 times (one request a second, a fresh connection each).
Passes when every probe is answered 302 in under 1 s (the maximum over 20 probes), the
relay's RSS stays under its start-up RSS plus MAX_RSS_GROWTH_MIB (default 256), and the
relay itself ends every slow connection (heads after 5 s, bodies after 10 s) instead of
holding it for the whole run. Reports how long each kind of slow client was let hang on.
Loopback only; every connection is closed at the end of the run.
"""

import argparse
import asyncio
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import relaylib  # noqa: E402

SLOWLORIS = 1000
BYTE_BY_BYTE = 20
SLOW_BODIES = 100
PROBES = 20


def raise_nofile(want=8192):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def trickle(port, data, interval, duration, t0, stats, kind, head=b""):
    """Connects, sends `head` at once, then `data` one byte per `interval` until done,
    closed, or `duration` is over. Records when (and how) the relay ended the connection."""
    rec = {"kind": kind}
    try:
        reader, writer = await asyncio.open_connection(relaylib.HOST, port)
        if head:
            writer.write(head)
            await writer.drain()
    except OSError as e:
        rec["outcome"] = f"connect-{type(e).__name__}"
        stats.append(rec)
        return
    rec["connected"] = time.monotonic() - t0
    closed = asyncio.Event()
    first = {}

    async def watch():
        try:
            chunk = await reader.read(65536)
            if chunk:
                first["bytes"] = chunk[:40].decode("latin-1")
        except OSError:
            pass
        first["at"] = time.monotonic() - t0
        closed.set()

    watcher = asyncio.create_task(watch())
    i = 0
    try:
        while time.monotonic() - t0 < duration and not closed.is_set() and i < len(data):
            i = await relaylib.send_byte(writer, data, i)
            await relaylib.wait_set(closed, interval)
    except OSError:
        pass
    if not closed.is_set():
        await relaylib.wait_set(closed, max(0.0, duration - (time.monotonic() - t0)))
    rec["bytes_sent"] = i
    if closed.is_set():
        rec["outcome"] = "answered" if "bytes" in first else "closed"
        rec["first_bytes"] = first.get("bytes", "")
        rec["ended_after_s"] = round(first["at"] - rec["connected"], 2)
    else:
        rec["outcome"] = "held-to-end"
    watcher.cancel()
    writer.close()
    stats.append(rec)


async def probe(port, request, t0, results):
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(relaylib.HOST, port), 5)
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        status = int(head.split(b" ")[1])
        writer.close()
    except Exception as e:  # noqa: BLE001 - recorded, judged below
        status = type(e).__name__
    results.append({"at": round(start - t0, 2), "status": status, "latency_s": time.monotonic() - start})


async def sample(relay, t0, duration, rss):
    while time.monotonic() - t0 < duration + 1:
        rss.append((round(time.monotonic() - t0, 1), relay.rss_kib()))
        await asyncio.sleep(1)


async def run(relay, state, duration):
    t0 = time.monotonic()
    stats, probes, rss = [], [], []
    head = f"GET /healthz HTTP/1.1\r\nHost: {relaylib.HOST}\r\nX-Slow: {'a' * 64}\r\n".encode()
    full = relaylib.callback_request(state)
    body = f"code=x&state={state}".encode()
    post_head = (
        "POST /api/auth/callback/github HTTP/1.1\r\n"
        f"Host: {relaylib.HOST}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    tasks = [asyncio.create_task(sample(relay, t0, duration, rss))]
    # Open the slow-loris connections in batches, so the accept queue never overflows.
    for batch in range(0, SLOWLORIS, 100):
        for _ in range(batch, min(batch + 100, SLOWLORIS)):
            tasks.append(asyncio.create_task(trickle(relay.port, head, 1.0, duration, t0, stats, "slowloris")))
        await asyncio.sleep(0.05)
    for _ in range(BYTE_BY_BYTE):
        tasks.append(asyncio.create_task(trickle(relay.port, full, 0.1, duration, t0, stats, "byte-by-byte")))
    for _ in range(SLOW_BODIES):
        # The head goes at once; the body then one byte a second.
        tasks.append(asyncio.create_task(
            trickle(relay.port, body, 1.0, duration, t0, stats, "slow-body", head=post_head)))
    await asyncio.sleep(1.0)
    for _ in range(PROBES):
        await probe(relay.port, relaylib.callback_request(state), t0, probes)
        await asyncio.sleep(max(0.0, 1.0 - probes[-1]["latency_s"]))
        if time.monotonic() - t0 > duration + 5:
            break
    await asyncio.wait(tasks, timeout=duration + 10)
    for t in tasks:
        t.cancel()
    return stats, probes, rss


def summarise(stats):
    out = {}
    for r in stats:
        k = out.setdefault(r["kind"], {"count": 0, "outcomes": {}, "max_ended_after_s": 0.0, "first_bytes": set()})
        k["count"] += 1
        k["outcomes"][r["outcome"]] = k["outcomes"].get(r["outcome"], 0) + 1
        if "ended_after_s" in r:
            k["max_ended_after_s"] = max(k["max_ended_after_s"], r["ended_after_s"])
        if r.get("first_bytes"):
            k["first_bytes"].add(r["first_bytes"].split("\r\n")[0])
    for k in out.values():
        k["first_bytes"] = sorted(k["first_bytes"])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--short", action="store_true", help="same as the default (20 s)")
    args = p.parse_args()
    nofile = raise_nofile()
    relay = relaylib.Relay("slowloris")
    state = relaylib.make_state()
    rss_start = relay.rss_kib()
    try:
        stats, probes, rss = asyncio.run(run(relay, state, args.duration))
    finally:
        alive = relay.proc.poll() is None
        relay.stop()
    latencies = [p["latency_s"] for p in probes]
    ok = [p for p in probes if p["status"] == 302]
    rss_max = max((v for _, v in rss), default=0)
    limit = int(os.environ.get("MAX_RSS_GROWTH_MIB", "256")) * 1024
    report = {
        "nofile": nofile,
        "duration_s": args.duration,
        "probes": len(probes),
        "probes_302": len(ok),
        "probe_latency_max_s": round(max(latencies, default=0), 4),
        "probe_latency_median_s": round(sorted(latencies)[len(latencies) // 2], 4) if latencies else None,
        "rss_kib": {"start": rss_start, "max": rss_max, "end": rss[-1][1] if rss else 0},
        "slow_clients": summarise(stats),
        "relay_alive_at_end": alive,
    }
    relaylib.write_report("slowloris", report, probes=probes, rss=rss)
    fail = []
    if len(probes) < PROBES or len(ok) != len(probes):
        fail.append(f"probes answered 302: {len(ok)} of {len(probes)}: {probes}")
    if max(latencies, default=99) >= 1.0:
        fail.append(f"a probe took {max(latencies):.3f} s")
    if rss_max - rss_start > limit:
        fail.append(f"RSS grew {rss_max - rss_start} KiB")
    if not alive:
        fail.append("the relay died")
    # The relay cuts slow heads after 5 s and slow bodies after 10 s: none may be held
    # for the whole run (when the run is long enough to see it).
    if args.duration >= 15:
        for kind, k in report["slow_clients"].items():
            held = k["outcomes"].get("held-to-end", 0)
            if held:
                fail.append(f"{held} {kind} connections were held for the whole {args.duration:.0f} s")
    return relaylib.verdict("slowloris", fail)


if __name__ == "__main__":
    sys.exit(main())
