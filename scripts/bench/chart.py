#!/usr/bin/env python3
"""Draws target/bench/results.json as an SVG: throughput and p99 latency per server.

    python chart.py results.json performance.svg

Needs matplotlib (scripts/bench/load.sh installs it in a venv under target/bench).
"""

import json
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = [
    ("relay-native", "authrelay\nnative state", "#1f6feb"),
    ("relay-authjs", "authrelay\nAuth.js state", "#54aeff"),
    ("authjs", "Auth.js stable\n(@auth/express)", "#cf222e"),
    ("ceiling-native", "bare actix 302\n(native URL)", "#6e7781"),
    ("ceiling-authjs", "bare actix 302\n(Auth.js URL)", "#afb8c1"),
]


def main(src, dst):
    res = json.load(open(src))
    s = res["servers"]
    names = [label for _, label, _ in ORDER]
    colors = [c for _, _, c in ORDER]
    rps = [s[k]["rps"] for k, _, _ in ORDER]
    p99 = [s[k]["p99_ms"] for k, _, _ in ORDER]

    plt.rcParams["svg.hashsalt"] = "authrelay"  # stable ids, so reruns diff cleanly
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    bars = a.bar(names, rps, color=colors)
    a.set_title("Throughput (requests/s, median, higher is better)")
    a.bar_label(bars, labels=[f"{v:,.0f}" for v in rps], fontsize=8)
    a.set_ylim(0, max(rps) * 1.15)
    bars = b.bar(names, p99, color=colors)
    b.set_yscale("log")
    b.set_title("p99 latency (ms, median, log scale, lower is better)")
    b.bar_label(bars, labels=[f"{v:.2f}" for v in p99], fontsize=8)
    b.set_ylim(min(p99) / 2, max(p99) * 3)
    for ax in (a, b):
        ax.tick_params(axis="x", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    m = res["machine"]
    fig.suptitle(
        f"authrelay vs the stable Auth.js deployment vs bare actix-web — wrk {res['threads']} threads, "
        f"{res['connections']} connections, {res['runs']}×{res['duration_s']} s; "
        f"{m['nproc']} shared cores ({m['cpu_model']}), load avg {res['loadavg_before'][0]:.1f}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(dst, format="svg", metadata={"Date": None})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
