#!/usr/bin/env python3
"""The latency an open-model client *should* see against `cicada target`, and the comparison table.

    accuracy_truth.py truth --rate 100 --duration 30 --service-ms 20 --every-s 5 --stall-ms 500 [--json F]
    accuracy_truth.py truth ... --slots 4 [--json F]     # a client with at most 4 requests in flight
    accuracy_truth.py table TRUTH.json RUNS.tsv

The target (Sources/CicadaTestTarget/TestTarget.swift, `delay(at:)`) answers a request that arrives
at server time t (from the server's start) after `service`, plus, when t mod every falls in the
last `stall` of the period, the rest of that period: latency = service + (every - t mod every).
Requests are served concurrently, so a request's latency depends only on its own arrival time.

A client sending at a fixed rate R with constant spacing for D seconds sends at phi + i/R,
i = 0 .. R*D-1, where phi (the server's clock at the client's first send) is unknown. `truth`
enumerates phi over a uniform grid on [0, every) and reports the percentiles of the pooled
(mixture) distribution, plus the smallest and largest of each percentile over single phases (how
much the truth of one run can differ from the mixture). Percentiles are nearest-rank: the value at
rank ceil(p/100 * N) of the sorted latencies, as HdrHistogram's valueAtPercentile counts.

With `--slots N` the client may have at most N requests in flight (Cicada's `max_in_flight`, a
wrk-style connection count): arrivals wait in the client, first come first served, for a free
slot, so during a stall the client itself queues. That is the case coordinated omission is
about. The truth is then simulated (N slots, each request served from its actual send) and
reported twice: latency from the intended send (what Cicada's corrected figures must match)
and from the actual send (what a tool without correction reports); percentiles over `phases`
grid phases pooled.

`table` reads the per-run percentiles (RUNS.tsv: round, tool, p50, p99, p99_9 in ms; empty or
"nan" where a tool does not report one) and prints a Markdown table of medians with the error
relative to the truth's mixture percentiles.
"""
import argparse
import json
import math
import statistics
import sys

PCTS = (50.0, 99.0, 99.9)
KEYS = ("p50", "p99", "p99_9")


def rank(p, n):
    return max(1, math.ceil(p / 100.0 * n - 1e-9))


def pct_from(n_total, service, extras_sorted, p):
    """Percentile p of a distribution of n_total latencies: (n_total - len(extras)) equal to
    `service`, plus the sorted latencies in `extras_sorted` (all > service)."""
    r = rank(p, n_total)
    n_plain = n_total - len(extras_sorted)
    return service if r <= n_plain else extras_sorted[r - n_plain - 1]


def truth(rate, duration, service_ms, every_s, stall_ms, phases):
    n = int(round(rate * duration))
    every = every_s * 1000.0          # ms
    stall_start = every - stall_ms
    spacing = 1000.0 / rate
    pooled = []
    per_phase = {k: [] for k in KEYS}
    stalled_counts = []
    for k in range(phases):
        phi = (k + 0.5) / phases * every
        extras = []
        for i in range(n):
            t = (phi + i * spacing) % every
            if t >= stall_start:
                extras.append(service_ms + (every - t))
        extras.sort()
        stalled_counts.append(len(extras))
        for key, p in zip(KEYS, PCTS):
            per_phase[key].append(pct_from(n, service_ms, extras, p))
        pooled.extend(extras)
    pooled.sort()
    total = n * phases
    out = {
        "model": "open, constant spacing",
        "rate_per_s": rate, "duration_s": duration, "requests_per_run": n,
        "service_ms": service_ms, "stall_every_s": every_s, "stall_for_ms": stall_ms,
        "phases": phases,
        "stalled_fraction": len(pooled) / total,
        "stalled_per_run": {"min": min(stalled_counts), "max": max(stalled_counts)},
        "mean_ms": (service_ms * (total - len(pooled)) + sum(pooled)) / total,
        "max_ms": pooled[-1] if pooled else service_ms,
    }
    for key, p in zip(KEYS, PCTS):
        out[key] = pct_from(total, service_ms, pooled, p)
        out[key + "_phase_range"] = [min(per_phase[key]), max(per_phase[key])]
    return out


def latency_at(t_ms, service_ms, every, stall_start):
    """The target's latency for a request sent at server time t (ms)."""
    ph = t_ms % every
    return service_ms + (every - ph if ph >= stall_start else 0.0)


def truth_slots(rate, duration, service_ms, every_s, stall_ms, phases, slots):
    import heapq
    n = int(round(rate * duration))
    every = every_s * 1000.0
    stall_start = every - stall_ms
    spacing = 1000.0 / rate
    corrected, raw = [], []
    per_phase = {k: [] for k in KEYS}
    for k in range(phases):
        phi = (k + 0.5) / phases * every
        free = [phi] * slots            # when each slot is next free (server clock, ms)
        heapq.heapify(free)
        mine = []
        for i in range(n):
            a = phi + i * spacing
            start = max(a, heapq.heappop(free))
            done = start + latency_at(start, service_ms, every, stall_start)
            heapq.heappush(free, done)
            mine.append(done - a)
            raw.append(done - start)
        corrected.extend(mine)
        mine.sort()
        for key, p in zip(KEYS, PCTS):
            per_phase[key].append(mine[rank(p, len(mine)) - 1])
    corrected.sort()
    raw.sort()
    out = {
        "model": f"open, constant spacing, at most {slots} in flight (FIFO client queue)",
        "rate_per_s": rate, "duration_s": duration, "requests_per_run": n, "slots": slots,
        "service_ms": service_ms, "stall_every_s": every_s, "stall_for_ms": stall_ms, "phases": phases,
        "mean_ms": sum(corrected) / len(corrected), "max_ms": corrected[-1],
    }
    for key, p in zip(KEYS, PCTS):
        out[key] = corrected[rank(p, len(corrected)) - 1]
        out[key + "_phase_range"] = [min(per_phase[key]), max(per_phase[key])]
        out["raw_" + key] = raw[rank(p, len(raw)) - 1]
    return out


def fnum(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def table(truth_path, runs_path):
    t = json.load(open(truth_path))
    rows = {}
    order = []
    with open(runs_path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            rec = dict(zip(header, line.rstrip("\n").split("\t")))
            tool = rec["tool"]
            if tool not in rows:
                rows[tool] = {k: [] for k in KEYS}
                order.append(tool)
            for k in KEYS:
                v = fnum(rec.get(k))
                if v is not None:
                    rows[tool][k].append(v)

    def cell(vals, k):
        if not vals:
            return "n/a"
        m = statistics.median(vals)
        err = (m - t[k]) / t[k] * 100.0
        mark = " ✓" if abs(err) <= 5.0 else ""
        return f"{m:.1f} ({err:+.1f}%){mark}"

    print("| | p50 ms (error) | p99 ms (error) | p99.9 ms (error) | runs |")
    print("|---|---|---|---|---|")
    rng = lambda k: "{:.1f}–{:.1f}".format(*t[k + "_phase_range"])
    kind = "simulated" if "slots" in t else "analytic"
    print(f"| **truth** (mixture over phase) | **{t['p50']:.1f}** | **{t['p99']:.1f}** | **{t['p99_9']:.1f}** | {kind} |")
    print(f"| truth, single phase (min–max) | {rng('p50')} | {rng('p99')} | {rng('p99_9')} | |")
    if "raw_p50" in t:
        print(f"| from the actual send (what an uncorrected tool sees) | {t['raw_p50']:.1f} | {t['raw_p99']:.1f} | {t['raw_p99_9']:.1f} | simulated |")
    for tool in order:
        r = rows[tool]
        n = max(len(v) for v in r.values())
        print(f"| {tool} | {cell(r['p50'], 'p50')} | {cell(r['p99'], 'p99')} | {cell(r['p99_9'], 'p99_9')} | {n} |")
    print()
    print("Median of the runs; error relative to the truth's mixture percentile; ✓ = within 5 %.")
    print("Per-run values:")
    print()
    for tool in order:
        r = rows[tool]
        print(f"- {tool}: " + "; ".join(f"{k} " + ", ".join(f"{v:.1f}" for v in r[k]) for k in KEYS if r[k]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("truth")
    a.add_argument("--rate", type=float, default=100.0)
    a.add_argument("--duration", type=float, default=30.0, help="seconds")
    a.add_argument("--service-ms", type=float, default=20.0)
    a.add_argument("--every-s", type=float, default=5.0)
    a.add_argument("--stall-ms", type=float, default=500.0)
    a.add_argument("--phases", type=int, default=None, help="grid points for the phase on [0, every) (default 10000, 200 with --slots)")
    a.add_argument("--slots", type=int, default=None, help="at most this many requests in flight (simulated)")
    a.add_argument("--json", help="also write the result here")
    b = sub.add_parser("table")
    b.add_argument("truth_json")
    b.add_argument("runs_tsv")
    args = ap.parse_args()
    if args.cmd == "truth":
        if args.slots:
            out = truth_slots(args.rate, args.duration, args.service_ms, args.every_s, args.stall_ms, args.phases or 200, args.slots)
        else:
            out = truth(args.rate, args.duration, args.service_ms, args.every_s, args.stall_ms, args.phases or 10000)
        s = json.dumps(out, indent=2)
        if args.json:
            with open(args.json, "w") as f:
                f.write(s + "\n")
        print(s)
    else:
        table(args.truth_json, args.runs_tsv)


if __name__ == "__main__":
    sys.exit(main())
