#!/usr/bin/env python3
"""(e) Kept-alive connections under a low file limit: slow later heads and idle connections.

The relay runs with a soft file limit of NOFILE (default 128). CONNECTIONS (default 240,
under twice the limit) clients each open a connection, send a whole `GET /healthz`, read
the answer, and then
- (most of them) trickle a second request head one byte every TRICKLE_S seconds, or
- (every fifth one) send nothing more and wait.
A client whose connection the relay ends waits 1 to 2 s and does the same again, for the
whole run (DURATION seconds, default 12), with at most MAX_ROUNDS connections per client.
Meanwhile a probe asks for `/healthz` on a fresh connection every half second.

Passes when every probe is answered 200 in under PROBE_LIMIT_S (2 s), the relay ends
every connection within the documented bounds (a connection lives at most 5 s for its
request head, plus the answer, plus 1 s to close; it is closed at most 1 s after its
answer), none is still open 2 s past those bounds, and the relay is alive at the end.
Reports how long connections lived and how many accept errors the relay logged.
Loopback only; every loop is bounded in count and time and every connection is closed at
the end of the run.
"""

import argparse
import asyncio
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import relaylib  # noqa: E402

NOFILE = 128
CONNECTIONS = 240
IDLE_EVERY = 5
TRICKLE_S = 0.5
MAX_ROUNDS = 20
RECONNECT_S = (1.0, 2.0)
PROBE_EVERY_S = 0.5
PROBE_LIMIT_S = 2.0
# The documented bounds (docs/configuration.md): 5 s for a request head, 1 s to close.
HEAD_S = 5.0
CLOSE_S = 1.0


async def first_answer(reader, deadline):
    """Reads one answer to a bodyless request; returns its status line, or None."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), deadline)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await asyncio.wait_for(reader.readexactly(length), deadline)
    return head.split(b"\r\n")[0].decode("latin-1")


async def one_connection(port, idle, records):
    """One connection: a request, its answer, then a trickled second head (or nothing)
    until the relay ends the connection or the run is over."""
    rec = {"kind": "idle" if idle else "trickle"}
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(relaylib.HOST, port), 5)
    except (OSError, asyncio.TimeoutError) as e:
        rec["outcome"] = f"connect-{type(e).__name__}"
        records.append(rec)
        return
    request = f"GET /healthz HTTP/1.1\r\nHost: {relaylib.HOST}\r\n\r\n".encode()
    second = f"GET /healthz HTTP/1.1\r\nHost: {relaylib.HOST}\r\nX-Slow: {'a' * 200}\r\n\r\n".encode()
    try:
        writer.write(request)
        await writer.drain()
        rec["status_line"] = await first_answer(reader, 5)
    except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
        rec["outcome"] = f"no-answer-{type(e).__name__}"
        rec["lived_s"] = round(time.monotonic() - start, 2)
        writer.close()
        records.append(rec)
        return
    answered = time.monotonic()
    closed = asyncio.Event()

    async def watch():
        try:
            await reader.read(65536)
        except OSError:
            pass
        closed.set()

    watcher = asyncio.create_task(watch())
    i = 0
    # Watched past the bounds, whatever the run's length, so that an open connection shows.
    watch_until = answered + HEAD_S + CLOSE_S + 2.0
    try:
        while time.monotonic() < watch_until and not closed.is_set():
            if not idle and i < len(second):
                i = await relaylib.send_byte(writer, second, i)
            await relaylib.wait_set(closed, TRICKLE_S)
    except OSError:
        closed.set()
    now = time.monotonic()
    rec["bytes_trickled"] = i
    rec["lived_s"] = round(now - start, 2)
    rec["after_answer_s"] = round(now - answered, 2)
    rec["outcome"] = "closed-by-relay" if closed.is_set() else "open-past-bounds"
    watcher.cancel()
    writer.close()
    records.append(rec)


async def client(port, n, t0, duration, records):
    idle = n % IDLE_EVERY == 0
    rng = random.Random(n)
    for _ in range(MAX_ROUNDS):
        if time.monotonic() - t0 >= duration:
            return
        await one_connection(port, idle, records)
        await asyncio.sleep(rng.uniform(*RECONNECT_S))


async def probe(port, t0, results):
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(relaylib.HOST, port), PROBE_LIMIT_S)
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {relaylib.HOST}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        line = await first_answer(reader, PROBE_LIMIT_S)
        status = int(line.split(" ")[1])
        writer.close()
    except Exception as e:  # noqa: BLE001 - recorded, judged below
        status = type(e).__name__
    results.append({"at": round(start - t0, 2), "status": status, "latency_s": round(time.monotonic() - start, 4)})


async def run(port, duration, connections):
    t0 = time.monotonic()
    records, probes = [], []
    tasks = [
        asyncio.create_task(client(port, n, t0, duration, records))
        for n in range(connections)
    ]
    await asyncio.sleep(1.0)
    while time.monotonic() - t0 < duration:
        await probe(port, t0, probes)
        await asyncio.sleep(max(0.0, PROBE_EVERY_S - probes[-1]["latency_s"]))
    await asyncio.wait(tasks, timeout=HEAD_S + CLOSE_S + 10)
    for t in tasks:
        t.cancel()
    return records, probes


def summarise(records):
    out = {}
    for r in records:
        k = out.setdefault(r["kind"], {"connections": 0, "outcomes": {}, "max_lived_s": 0.0, "max_after_answer_s": 0.0})
        k["connections"] += 1
        k["outcomes"][r["outcome"]] = k["outcomes"].get(r["outcome"], 0) + 1
        k["max_lived_s"] = max(k["max_lived_s"], r.get("lived_s", 0.0))
        k["max_after_answer_s"] = max(k["max_after_answer_s"], r.get("after_answer_s", 0.0))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=float, default=12.0)
    p.add_argument("--short", action="store_true", help="same as the default (12 s)")
    p.add_argument("--nofile", type=int, default=NOFILE)
    p.add_argument("--connections", type=int, default=CONNECTIONS)
    args = p.parse_args()
    relay = relaylib.Relay("keepalive", nofile=args.nofile)
    try:
        records, probes = asyncio.run(run(relay.port, args.duration, args.connections))
    finally:
        alive = relay.proc.poll() is None
        relay.stop()
    with open(relay.log_path, errors="replace") as f:
        emfile = sum(1 for line in f if "Too many open files" in line)
    latencies = [p["latency_s"] for p in probes]
    ok = [p for p in probes if p["status"] == 200]
    summary = summarise(records)
    report = {
        "relay_nofile": args.nofile,
        "connections": args.connections,
        "duration_s": args.duration,
        "probes": len(probes),
        "probes_200": len(ok),
        "probe_latency_max_s": round(max(latencies, default=0), 4),
        "relay_accept_emfile_lines": emfile,
        "clients": summary,
        "relay_alive_at_end": alive,
    }
    relaylib.write_report("keepalive", report, probes=probes, records=records)
    bad = [p for p in probes if p["status"] != 200]
    checks = [
        (not probes or len(ok) != len(probes),
         f"probes answered 200: {len(ok)} of {len(probes)}; first failures: {bad[:5]}"),
        # With no probe at all the check above fails too, and the latency shows as inf.
        (max(latencies, default=99) >= PROBE_LIMIT_S, f"a probe took {max(latencies, default=float('inf')):.3f} s"),
        (not alive, "the relay died"),
    ]
    for kind, k in summary.items():
        held = k["outcomes"].get("open-past-bounds", 0)
        checks += [
            (held, f"{held} {kind} connections were still open {HEAD_S + CLOSE_S + 2:.0f} s after their answer"),
            # A small allowance for the client's own scheduling on a loaded machine.
            (k["max_after_answer_s"] > CLOSE_S + 0.5,
             f"a {kind} connection stayed open {k['max_after_answer_s']} s after its answer"),
            (k["max_lived_s"] > HEAD_S + CLOSE_S + 0.5, f"a {kind} connection lived {k['max_lived_s']} s"),
        ]
    checks.append((not records, "no client connection completed"))
    return relaylib.judge("keepalive", checks)


if __name__ == "__main__":
    relaylib.run(main)
