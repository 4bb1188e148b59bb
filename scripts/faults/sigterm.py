#!/usr/bin/env python3
"""(b) SIGTERM during load.

32 clients (24 opening a connection per request, 8 asking for keep-alive, which the relay
answers with `Connection: close`, so they open a new one too) bounce a valid callback, and 8 slow form posts are in flight (their bodies still arriving) when the
relay gets SIGTERM. Passes when:
- every slow in-flight post completes with its 200 page;
- every request fully sent at least 50 ms before the signal gets its complete response
  (no connection reset, no early close);
- the relay exits with status 0 within its 10 s grace (measured from the signal).
Requests sent after the signal may be refused: the relay stops accepting.
Loopback only; bounded to about 20 s.
"""

import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import relaylib  # noqa: E402

GRACE = 10.0
TERM_AT = 2.0      # seconds after the load starts
STOP_AT = 6.0      # the fast clients stop sending
SLOW_BODY_SECS = 3.0


def fast_client(relay, request, t0, t_term_box, results, keep_alive):
    sock = None
    while time.monotonic() - t0 < STOP_AT:
        rec = {"keep_alive": keep_alive}
        try:
            if sock is None:
                sock = socket.create_connection((relaylib.HOST, relay.port), timeout=5)
            sock.sendall(request)
            rec["sent"] = time.monotonic() - t0
            status, raw = relaylib.read_response(sock, time.monotonic() + 5)
            rec["outcome"] = f"status-{status}"
            # The relay closes every connection after its answer and says so; a client
            # that asked for keep-alive then opens a new one, as HTTP clients do.
            if not keep_alive or relaylib.says_close(raw):
                sock.close()
                sock = None
        except ConnectionRefusedError:
            rec["outcome"] = "refused"
            sock = None
            time.sleep(0.05)
        except (ConnectionResetError, BrokenPipeError):
            rec["outcome"] = "reset"
            sock = None
        except EOFError:
            rec["outcome"] = "eof"
            sock = None
        except (TimeoutError, socket.timeout):
            rec["outcome"] = "timeout"
            sock = None
        except OSError as e:
            rec["outcome"] = f"oserror-{e.errno}"
            sock = None
        results.append(rec)
    if sock is not None:
        sock.close()


def slow_post(relay, state, t0, results):
    body = f"code=slow&state={state}".encode()
    head = (
        "POST /api/auth/callback/github HTTP/1.1\r\n"
        f"Host: {relaylib.HOST}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    rec = {}
    try:
        sock = socket.create_connection((relaylib.HOST, relay.port), timeout=5)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        sock.sendall(head)
        rec["started"] = time.monotonic() - t0
        pieces = 12
        step = max(1, len(body) // pieces + 1)
        for i in range(0, len(body), step):
            sock.sendall(body[i:i + step])
            time.sleep(SLOW_BODY_SECS / pieces)
        rec["sent"] = time.monotonic() - t0
        status, raw = relaylib.read_response(sock, time.monotonic() + 10)
        rec["outcome"] = f"status-{status}"
        rec["complete"] = raw.rstrip().endswith(b"</html>")
        rec["done"] = time.monotonic() - t0
        sock.close()
    except Exception as e:  # noqa: BLE001 - recorded, judged below
        rec["outcome"] = type(e).__name__
    results.append(rec)


def main():
    relay = relaylib.Relay("sigterm")
    state = relaylib.make_state()
    fast_req = relaylib.callback_request(state, close=True)
    keep_req = relaylib.callback_request(state, close=False)
    fast, slow = [], []
    t_term_box = {}
    t0 = time.monotonic()
    threads = [
        threading.Thread(target=fast_client, args=(relay, fast_req, t0, t_term_box, fast, False))
        for _ in range(24)
    ] + [
        threading.Thread(target=fast_client, args=(relay, keep_req, t0, t_term_box, fast, True))
        for _ in range(8)
    ] + [threading.Thread(target=slow_post, args=(relay, state, t0, slow)) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(TERM_AT)
    t_term = time.monotonic() - t0
    os.kill(relay.pid, signal.SIGTERM)
    exit_code = None
    t_exit = None
    deadline = time.monotonic() + GRACE + 5
    while time.monotonic() < deadline:
        exit_code = relay.proc.poll()
        if exit_code is not None:
            t_exit = time.monotonic() - t0
            break
        time.sleep(0.01)
    for t in threads:
        t.join(timeout=15)
    relay.stop()

    before = [r for r in fast if "sent" in r and r["sent"] < t_term - 0.05]
    lost_before = [r for r in before if not r["outcome"].startswith("status-3")]
    outcomes = {}
    for r in fast:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    slow_ok = [r for r in slow if r.get("outcome") == "status-200" and r.get("complete")]
    report = {
        "requests": len(fast),
        "outcomes": outcomes,
        "sent_before_sigterm": len(before),
        "lost_before_sigterm": len(lost_before),
        "slow_in_flight": len(slow),
        "slow_completed": len(slow_ok),
        "slow_last_done_after_sigterm_s": round(max((r.get("done", 0) for r in slow), default=0) - t_term, 3),
        "exit_code": exit_code,
        "exit_after_sigterm_s": None if t_exit is None else round(t_exit - t_term, 3),
    }
    relaylib.write_report("sigterm", report, slow=slow, lost=lost_before[:20])
    return relaylib.judge("sigterm", [
        (len(slow_ok) != len(slow), f"{len(slow) - len(slow_ok)} in-flight posts did not complete: {slow}"),
        (lost_before, f"{len(lost_before)} requests sent before SIGTERM were lost: {lost_before[:5]}"),
        (exit_code != 0, f"exit code {exit_code}"),
        (t_exit is None or t_exit - t_term > GRACE + 0.5, f"did not exit within the {GRACE:.0f} s grace"),
        (not before, "no load before SIGTERM"),
    ])


if __name__ == "__main__":
    relaylib.run(main)
