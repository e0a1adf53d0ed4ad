"""Summary for bench/streams.sh: streams_summary.py RESULTS_DIR TTFT_MS ITL_MS

Reads RESULTS_DIR/runs.tsv, each run's client output (Cicada's JSON report, AIPerf's
profile_export_aiperf.json) and the server's lateness JSON, and prints one Markdown table: per
tool and concurrency, the median over rounds of each figure (runs listed in runs.tsv). A figure a
run did not produce shows as "—", never 0. Client error = client p99 minus the schedule.
A second table turns CPU per token (the server's own, from getrusage in /lateness, and the
client's) into the cores that 10,000 streams at one token per ITL would need.
"""
import csv
import glob
import json
import os
import statistics
import sys


def client(d, tool, base):
    if tool == "aiperf":
        f = glob.glob(os.path.join(d, base + ".aiperf", "**", "profile_export_aiperf.json"), recursive=True)
        if not f:
            return {}
        m = json.load(open(f[0]))
        m = m.get("records", m)
        g = lambda k, s: (m.get(k) or {}).get(s) if isinstance(m.get(k), dict) else None
        return {"ttft50": g("time_to_first_token", "p50"), "ttft99": g("time_to_first_token", "p99"),
                "itl50": g("inter_chunk_latency", "p50"), "itl99": g("inter_chunk_latency", "p99")}
    p = os.path.join(d, base + ".json")
    if not os.path.exists(p):
        return {}
    l = json.load(open(p)).get("llm") or {}
    return {"ttft50": l.get("p50_ttft_ms"), "ttft99": l.get("p99_ttft_ms"),
            "itl50": l.get("p50_itl_ms"), "itl99": l.get("p99_itl_ms")}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, nd=2):
    return "—" if v is None else f"{v:,.{nd}f}"


def main(d, ttft, itl):
    ttft, itl = float(ttft), float(itl)
    rows = list(csv.DictReader(open(os.path.join(d, "runs.tsv")), delimiter="\t"))
    groups = {}
    for r in rows:
        lat = {}
        lp = os.path.join(d, r["file"] + ".lateness.json")
        if os.path.exists(lp) and os.path.getsize(lp):
            lat = json.load(open(lp))
        c = client(d, r["tool"], r["file"])
        tokens = lat.get("tokens") or 0
        cpu = float(r["client_cpu_s"]) if r["client_cpu_s"] else None
        rec = {**c, "peak": lat.get("peak_inflight"), "avg": lat.get("avg_inflight"),
               "cpu_tok_us": (cpu / tokens * 1e6) if cpu is not None and tokens else None,
               "rss_mb": int(r["maxrss_kb"]) / 1024 if r["maxrss_kb"] else None,
               "srv_tok_us": lat.get("cpu_us_per_token"),
               "tok_s": (tokens / lat["window_s"]) if tokens and lat.get("window_s") else None,
               "late50": lat.get("late_p50_us"), "late99": lat.get("late_p99_us"), "latemax": lat.get("late_max_us"),
               "load": float(r["load1"]), "tokens": tokens, "rc": r["rc"]}
        th = int(r.get("threads") or lat.get("threads") or 1)
        groups.setdefault((r["tool"], int(r["C"]), th), []).append(rec)
    names = {"fast": "Cicada --transport fast", "curl": "Cicada --transport curl", "aiperf": "AIPerf"}
    print(f"Schedule: TTFT {ttft:g} ms, ITL {itl:g} ms. Medians over rounds (n = rounds; rc = exit codes).\n")
    print("| tool | C | server threads | n | rc | streams in flight avg / peak (server) | TTFT p50 / p99 ms | ITL p50 / p99 ms | "
          "client p99 error TTFT / ITL ms | client CPU µs / token | server CPU µs / token | tokens/s (server) | client peak RSS MB | "
          "server lateness p50 / p99 / max µs | load avg (1 min) |")
    print("|---|---:|---:|---:|---|---|---|---|---|---:|---:|---:|---:|---|---|")
    order = lambda kv: (kv[0][1], list(names).index(kv[0][0]), kv[0][2])
    for (tool, c, th), recs in sorted(groups.items(), key=order):
        m = {k: med([r.get(k) for r in recs]) for k in recs[0]
             if k != "rc"}
        loads = ", ".join("%.2f" % r["load"] for r in recs)
        e_t = m["ttft99"] - ttft if m["ttft99"] is not None else None
        e_i = m["itl99"] - itl if m["itl99"] is not None else None
        print(f"| {names.get(tool, tool)} | {c:,} | {th} | {len(recs)} | {','.join(r['rc'] for r in recs)} | "
              f"{fmt(m['avg'], 0)} / {fmt(m['peak'], 0)} | {fmt(m['ttft50'])} / {fmt(m['ttft99'])} | "
              f"{fmt(m['itl50'])} / {fmt(m['itl99'])} | {fmt(e_t)} / {fmt(e_i)} | {fmt(m['cpu_tok_us'], 1)} | "
              f"{fmt(m['srv_tok_us'], 1)} | {fmt(m['tok_s'], 0)} | "
              f"{fmt(m['rss_mb'], 0)} | {fmt(m['late50'], 0)} / {fmt(m['late99'], 0)} / {fmt(m['latemax'], 0)} | "
              f"{loads} |")
    # 10,000 streams, one token per ITL each: the token rate the goal asks for, and the
    # cores it takes at each run's measured CPU per token (server and client apart).
    rate = 10000 * 1000.0 / itl
    print(f"\nCores for 10,000 streams at one token per {itl:g} ms ({rate:,.0f} tokens/s) at the CPU per token "
          "measured (median over rounds; cores = µs per token × tokens/s / 10^6):\n")
    print("| tool | C | server threads | server CPU µs / token | client CPU µs / token | server cores | client cores | total cores |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (tool, c, th), recs in sorted(groups.items(), key=order):
        sv, cl = med([r["srv_tok_us"] for r in recs]), med([r["cpu_tok_us"] for r in recs])
        cs = sv * rate / 1e6 if sv is not None else None
        cc = cl * rate / 1e6 if cl is not None else None
        tot = cs + cc if cs is not None and cc is not None else None
        print(f"| {names.get(tool, tool)} | {c:,} | {th} | {fmt(sv, 1)} | {fmt(cl, 1)} | {fmt(cs, 2)} | {fmt(cc, 2)} | {fmt(tot, 2)} |")


if __name__ == "__main__":
    main(*sys.argv[1:4])
