#!/usr/bin/env python3
"""Latency over time from k6's JSON output (`loadtest/run … --json FILE.json.gz`).

    target/loadtest-venv/bin/python loadtest/plot.py FILE.json.gz OUT.png [--title TEXT]

Reads every `grpc_req_duration` point (one per call, tagged with the kind of call by the
scripts: start, sync, describe), groups them by second and by kind, and draws p50 and p99
per second above the calls answered per second. Needs matplotlib
(`target/loadtest-venv/bin/pip install matplotlib`).
"""

import argparse
import gzip
import json
import math
from collections import defaultdict
from datetime import datetime
from itertools import takewhile

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def epoch(stamp):
    """Seconds since the epoch of k6's RFC 3339 time with nanoseconds (…T23:58:16.737845294Z)."""
    head, dot, rest = stamp.partition(".")
    if not dot:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    digits = "".join(takewhile(str.isdigit, rest))
    zone = rest[len(digits) :].replace("Z", "+00:00")
    return datetime.fromisoformat(head + zone).timestamp() + float("0." + (digits or "0"))


def points(path):
    """(seconds since the epoch, milliseconds, call kind) of every gRPC call in the file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            row = json.loads(line)
            if row.get("type") != "Point" or row.get("metric") != "grpc_req_duration":
                continue
            data = row["data"]
            when = epoch(data["time"])
            yield when, data["value"], data.get("tags", {}).get("call", "other")


def quantile(sorted_values, q):
    """Nearest-rank quantile of an already sorted list."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="k6 JSON output (.json or .json.gz)")
    parser.add_argument("output", help="the PNG to write")
    parser.add_argument("--title", default="Expressway under k6: latency over time")
    args = parser.parse_args()

    # seconds[kind][second] = [latencies in ms]
    seconds = defaultdict(lambda: defaultdict(list))
    first = None
    for when, ms, kind in points(args.input):
        first = when if first is None else min(first, when)
        seconds[kind][int(when)].append(ms)
    if first is None:
        raise SystemExit(f"{args.input}: no grpc_req_duration points")
    origin = int(first)

    fig, (lat, rate) = plt.subplots(
        2, 1, figsize=(8, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    colours = {"start": "tab:blue", "sync": "tab:orange", "describe": "tab:green"}
    for kind in sorted(seconds):
        by_second = seconds[kind]
        xs = sorted(by_second)
        values = [sorted(by_second[x]) for x in xs]
        t = [x - origin for x in xs]
        colour = colours.get(kind, None)
        lat.plot(t, [quantile(v, 0.50) for v in values], color=colour, linestyle="-", label=f"{kind} p50")
        lat.plot(t, [quantile(v, 0.99) for v in values], color=colour, linestyle=":", label=f"{kind} p99")
        rate.plot(t, [len(v) for v in values], color=colour, label=kind)
    lat.set_yscale("log")
    lat.set_ylabel("latency per second (ms)")
    lat.grid(True, which="both", alpha=0.3)
    lat.legend(fontsize="small", ncol=3)
    lat.set_title(args.title, fontsize="medium")
    rate.set_ylabel("calls answered / s")
    rate.set_xlabel("seconds since the first call")
    rate.grid(True, alpha=0.3)
    rate.legend(fontsize="small", ncol=3)
    fig.tight_layout()
    fig.savefig(args.output, dpi=80)


if __name__ == "__main__":
    main()
