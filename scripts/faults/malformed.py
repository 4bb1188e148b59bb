#!/usr/bin/env python3
"""(d) Malformed HTTP: oversized headers, bad methods, huge bodies, bad request lines and
bytes that are not HTTP at all, each on its own connection to a relay on 127.0.0.1.

Passes when nothing gets a 5xx, every request that is HTTP-shaped gets a 4xx (a few
well-formed ones are expected to get their normal answer, as marked), and the relay is
alive and serving at the end. Garbage that is not HTTP may instead be answered with a
closed connection; the table written to $FAULTS_OUT/malformed.md records which.
Bounded: one connection per case, at most 5 s each.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import relaylib  # noqa: E402

H = relaylib.HOST
CB = "/api/auth/callback/github"


def req(line, headers=(), body=b""):
    head = line + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return head.encode("latin-1") + body


def cases(state):
    base = [f"Host: {H}", "Connection: close"]
    form = base + ["Content-Type: application/x-www-form-urlencoded"]
    ok_q = f"{CB}?code=x&state={state}"
    big = b"a" * (10 * 1024 * 1024)
    # (name, bytes, expect): expect is "4xx", "ok" (normal answer) or "4xx-or-close".
    return [
        ("control: a valid GET", req(f"GET {ok_q} HTTP/1.1", base), "ok"),
        ("control: HTTP/1.0 GET", req(f"GET {ok_q} HTTP/1.0", [f"Host: {H}"]), "ok"),
        # Oversized headers.
        ("one 16 KiB header", req(f"GET {ok_q} HTTP/1.1", base + ["X-Big: " + "a" * 16384]), "ok"),
        ("one 64 KiB header", req(f"GET {ok_q} HTTP/1.1", base + ["X-Big: " + "a" * 65536]), "ok"),
        ("one 1 MiB header", req(f"GET {ok_q} HTTP/1.1", base + ["X-Big: " + "a" * 1048576]), "4xx-or-close"),
        ("200 headers", req(f"GET {ok_q} HTTP/1.1", base + [f"X-{i}: v" for i in range(200)]), "4xx-or-close"),
        ("1 MiB request target", req(f"GET {CB}?pad={'p' * 1048576} HTTP/1.1", base), "4xx-or-close"),
        ("64 KiB cookie", req(f"GET {ok_q} HTTP/1.1", base + ["Cookie: a=" + "b" * 65536]), "ok"),
        # Bad methods.
        ("lowercase get", req(f"get {ok_q} HTTP/1.1", base), "4xx-or-close"),
        ("unknown method GETT", req(f"GETT {ok_q} HTTP/1.1", base), "4xx"),
        # The methods the relay does not serve; PUT and PATCH with an empty body.
        *[(m, req(f"{m} {ok_q} HTTP/1.1", base + (["Content-Length: 0"] if m in ("PUT", "PATCH") else [])), "4xx")
          for m in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")],
        ("CONNECT", req(f"CONNECT evil.example.net:443 HTTP/1.1", base), "4xx-or-close"),
        # HEAD is answered as GET is (the relay maps it so), without a body.
        ("HEAD", req(f"HEAD {ok_q} HTTP/1.1", base), "ok"),
        ("method with a slash", req(f"G/ET {ok_q} HTTP/1.1", base), "4xx-or-close"),
        ("8 KiB method", req(f"{'G' * 8192} {ok_q} HTTP/1.1", base), "4xx-or-close"),
        # Huge bodies.
        ("10 MiB form body", req(f"POST {CB} HTTP/1.1", form + [f"Content-Length: {len(big)}"], big), "4xx"),
        ("10 MiB chunked body", req(f"POST {CB} HTTP/1.1", form + ["Transfer-Encoding: chunked"],
                                    b"".join(b"%x\r\n%s\r\n" % (65536, b"a" * 65536) for _ in range(160)) + b"0\r\n\r\n"), "4xx"),
        ("Content-Length 2^64", req(f"POST {CB} HTTP/1.1", form + ["Content-Length: 18446744073709551616"], b"x"), "4xx-or-close"),
        ("negative Content-Length", req(f"POST {CB} HTTP/1.1", form + ["Content-Length: -1"], b"x"), "4xx-or-close"),
        ("two Content-Lengths", req(f"POST {CB} HTTP/1.1", form + ["Content-Length: 1", "Content-Length: 2"], b"xx"), "4xx-or-close"),
        ("CL and chunked", req(f"POST {CB} HTTP/1.1", form + ["Content-Length: 3", "Transfer-Encoding: chunked"], b"0\r\n\r\n"), "4xx-or-close"),
        ("bad chunk size", req(f"POST {CB} HTTP/1.1", form + ["Transfer-Encoding: chunked"], b"zz\r\nabc\r\n0\r\n\r\n"), "4xx-or-close"),
        ("TE gzip", req(f"POST {CB} HTTP/1.1", form + ["Transfer-Encoding: gzip"], b"x"), "4xx-or-close"),
        ("Expect 100-continue, huge", req(f"POST {CB} HTTP/1.1", form + ["Expect: 100-continue", "Content-Length: 1073741824"]), "4xx"),
        ("JSON body", req(f"POST {CB} HTTP/1.1", base + ["Content-Type: application/json", "Content-Length: 2"], b"{}"), "4xx"),
        # Bad request lines.
        ("HTTP/0.9 style", b"GET /\r\n\r\n", "4xx-or-close"),
        *[(name, req(line, base), "4xx-or-close") for name, line in [
            ("no version", f"GET {ok_q}"),
            ("HTTP/9.9", f"GET {ok_q} HTTP/9.9"),
            ("HTTP/2.0 on HTTP/1", f"GET {ok_q} HTTP/2.0"),
            ("two spaces", f"GET  {ok_q} HTTP/1.1"),
            ("extra token", f"GET {ok_q} HTTP/1.1 extra"),
            ("tab separators", f"GET\t{ok_q}\tHTTP/1.1"),
        ]],
        ("bare LF line ends", f"GET {ok_q} HTTP/1.1\nHost: {H}\nConnection: close\n\n".encode(), "4xx-or-close-or-ok"),
        ("CR in the target", req(f"GET {CB}?a=\rb HTTP/1.1", base), "4xx-or-close"),
        ("NUL in the target", req(f"GET {CB}?a=\0b HTTP/1.1", base), "4xx-or-close"),
        ("non-ASCII target", f"GET {CB}?state=\u00ff HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n".encode("latin-1"), "4xx-or-close"),
        ("asterisk target", req("GET * HTTP/1.1", base), "4xx-or-close"),
        ("absolute-form to elsewhere", req(f"GET http://evil.example.net{ok_q} HTTP/1.1", base), "4xx-or-close-or-ok"),
        ("empty target", req("GET  HTTP/1.1", base), "4xx-or-close"),
        # Bad headers.
        ("space before colon", req(f"GET {ok_q} HTTP/1.1", base + ["X-Bad : v"]), "4xx-or-close"),
        ("no colon", req(f"GET {ok_q} HTTP/1.1", base + ["NoColonHere"]), "4xx-or-close"),
        ("obs-fold", req(f"GET {ok_q} HTTP/1.1", base + ["X-A: a", " folded"]), "4xx-or-close"),
        ("NUL in a header", req(f"GET {ok_q} HTTP/1.1", base + ["X-A: a\0b"]), "4xx-or-close"),
        ("no Host on HTTP/1.1", req(f"GET {ok_q} HTTP/1.1", ["Connection: close"]), "4xx-or-close-or-ok"),
        ("two Hosts", req(f"GET {ok_q} HTTP/1.1", base + ["Host: evil.example.net"]), "4xx-or-close-or-ok"),
        # Not HTTP at all.
        ("TLS ClientHello", bytes.fromhex("160301002a0100002603035b") + b"\0" * 40, "4xx-or-close"),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "4xx-or-close"),
        ("random bytes", bytes(range(256)) * 8, "4xx-or-close"),
        ("only CRLFs", b"\r\n" * 4096, "4xx-or-close"),
        ("SSH banner", b"SSH-2.0-OpenSSH_9.0\r\n", "4xx-or-close"),
        ("empty, then close", b"", "4xx-or-close"),
    ]


def send(port, data):
    """Sends data while reading; returns ("status", code) or ("closed", how)."""
    s = socket.create_connection((H, port), timeout=5)
    s.setblocking(False)
    deadline = time.monotonic() + 5
    sent, buf = 0, b""
    import select
    shut = False
    while time.monotonic() < deadline:
        want_w = [s] if sent < len(data) else []
        if sent >= len(data) and not shut:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            shut = True
        r, w, _ = select.select([s], want_w, [], 0.2)
        if w:
            try:
                sent += s.send(data[sent:sent + 65536])
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                sent = len(data)
        if r:
            try:
                chunk = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                s.close()
                return ("status", int(buf.split(b" ")[1])) if buf.startswith(b"HTTP/") else ("closed", "reset")
            if not chunk:
                break
            buf += chunk
            # An interim 1xx (100 Continue) is not the answer: keep reading.
            while buf.startswith(b"HTTP/1.1 1") and b"\r\n\r\n" in buf:
                buf = buf.split(b"\r\n\r\n", 1)[1]
            if b"\r\n\r\n" in buf:
                break
    s.close()
    if buf.startswith(b"HTTP/"):
        try:
            return ("status", int(buf.split(b" ")[1]))
        except (IndexError, ValueError):
            return ("closed", "garbled")
    return ("closed", "eof" if time.monotonic() < deadline else "timeout")


def main():
    relay = relaylib.Relay("malformed")
    state = relaylib.make_state()
    rows, fail = [], []
    try:
        for name, data, expect in cases(state):
            kind, value = send(relay.port, data)
            got = f"{value}" if kind == "status" else f"closed ({value})"
            rows.append((name, len(data), got, expect))
            if kind == "status" and value >= 500:
                fail.append(f"{name}: {value}")
            elif kind == "closed" and value == "timeout":
                fail.append(f"{name}: no answer within 5 s")
            elif expect == "ok" and not (kind == "status" and value == 302):
                fail.append(f"{name}: expected the normal 302, got {got}")
            elif expect == "4xx" and not (kind == "status" and 400 <= value < 500):
                fail.append(f"{name}: expected a 4xx, got {got}")
            elif expect == "4xx-or-close" and kind == "status" and not 400 <= value < 500:
                fail.append(f"{name}: expected a 4xx or a close, got {got}")
            if relay.proc.poll() is not None:
                fail.append(f"{name}: the relay died")
                break
        # Still serving afterwards.
        s = socket.create_connection((H, relay.port), timeout=5)
        s.sendall(relaylib.callback_request(state))
        status, _ = relaylib.read_response(s, time.monotonic() + 5)
        s.close()
        if status != 302:
            fail.append(f"after the corpus a valid request got {status}")
    finally:
        relay.stop()
    table = ["| case | bytes sent | answer | expected |", "|---|---:|---|---|"]
    table += [f"| {n} | {b} | {g} | {e} |" for n, b, g, e in rows]
    with open(os.path.join(relaylib.OUT, "malformed.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table))
    return relaylib.verdict("malformed", fail, f" ({len(rows)} cases)")


if __name__ == "__main__":
    sys.exit(main())
