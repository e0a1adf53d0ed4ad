#!/usr/bin/env python3
"""Markdown table from a bench/throughput.sh runs.tsv: medians, CPU, ratios of medians and
medians of per-round ratios. Usage: throughput_summary.py results/throughput-*/runs.tsv"""
import csv
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
# "rest of machine busy": all CPU time on the machine during the run (from /proc/stat, user +
# system + irq + softirq) less the generator's and the nginx worker's; it holds loopback softirq
# work not charged to a process, and any other job on the machine (a sign the run was disturbed).
tools = []
for r in rows:
    if r["tool"] not in tools:
        tools.append(r["tool"])
f = lambda r, k: float(r.get(k) or 0)
med = {}
# "generator CPU per 1,000 req/s": the generator's CPU use (user+sys CPU-seconds per second of
# wall time, from /usr/bin/time, as % of one core) divided by its rate in thousands of req/s.
# It is the share of one core the tool needs for each 1,000 req/s it sends (= CPU µs per
# request / 10).
print("| generator | runs (req/s, in round order) | median req/s | generator CPU (user+sys, % of one core) "
      "| generator CPU per 1,000 req/s (% of one core) | generator CPU µs / request "
      "| nginx worker CPU (% of one core) | rest of machine busy (% of one core) | CPU steal "
      "| load average (1 min) at each run's start |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
for t in tools:
    rs = [r for r in rows if r["tool"] == t]
    q = [f(r, "req_per_s") for r in rs]
    cpu = [f(r, "gen_user_s") + f(r, "gen_sys_s") for r in rs]
    wall = [f(r, "gen_wall_s") for r in rs]
    us = [c / int(r["requests"]) * 1e6 for c, r in zip(cpu, rs)]
    per_k = [(c / w * 100) / (x / 1000) for c, w, x in zip(cpu, wall, q)]
    ng = [f(r, "nginx_cpu_s") / w * 100 for r, w in zip(rs, wall)]
    st = [f(r, "steal_pct") for r in rs] if "steal_pct" in rs[0] else []
    busy = [f(r, "machine_busy_pct") for r in rs] if "machine_busy_pct" in rs[0] else []
    other = [b - c / w * 100 - n for b, c, w, n in zip(busy, cpu, wall, ng)]
    med[t] = statistics.median(q)
    print(f"| {t} | {', '.join(f'{x:,.0f}' for x in q)} | **{med[t]:,.0f}** | "
          f"{statistics.median(c / w * 100 for c, w in zip(cpu, wall)):.0f}% | {statistics.median(per_k):.2f}% | "
          f"{statistics.median(us):.1f} | "
          f"{statistics.median(ng):.0f}% | {f'{statistics.median(other):.0f}%' if busy else 'n/a'} | "
          f"{f'{statistics.median(st):.1f}%' if st else 'n/a'} | "
          f"{', '.join(r.get('load1') or '—' for r in rs)} |")
print()


def ratio(a, b, goal):
    if a not in med or b not in med:
        return
    per_round = []
    for rnd in sorted({r["round"] for r in rows}, key=int):
        x = [f(r, "req_per_s") for r in rows if r["round"] == rnd and r["tool"] == a]
        y = [f(r, "req_per_s") for r in rows if r["round"] == rnd and r["tool"] == b]
        if x and y:
            per_round.append(x[0] / y[0])
    print(f"- {a} / {b}: ratio of medians **{med[a] / med[b]:.2f}**; per-round ratios "
          f"{', '.join(f'{x:.2f}' for x in per_round)} (median {statistics.median(per_round):.2f}); goal {goal}")


ratio("cicada --workers 1", "wrk -t1", ">= 0.8, aim 1.0")
ratio("cicada --workers 1", "cicada-baseline --workers 1", "faster than the baseline")
ratio("cicada --workers 1", "h2load -t1", "none set")
ratio("cicada --workers 1", "hey -cpus 1", "none set")
ratio("cicada --workers 1", "ab -k", "none set")
ratio("cicada --workers 2", "wrk -t2", ">= 0.8, aim 1.0")
ratio("cicada-fast --workers 1", "wrk -t1", ">= 1.0 (issue 17)")
ratio("cicada-fast --workers 1", "h2load -t1", ">= 1.0 (issue 17)")
ratio("cicada-fast --workers 1", "cicada --workers 1", "none set (fast path / libcurl)")
ratio("cicada-fast --workers 2", "wrk -t2", ">= 1.0 (issue 17)")
ratio("cicada-fast --workers 1", "locust FastHttpUser", ">= 20 (issue 17)")
ratio("cicada-fast --workers 1", "locust FastHttpUser --processes 2", "none set (1 Cicada thread / 2 Locust workers)")
ratio("cicada-fast --workers 2", "locust FastHttpUser --processes 2", "none set (2 threads / 2 worker processes)")
ratio("cicada --workers 1", "locust FastHttpUser --processes 2", "none set")
ratio("cicada --workers 1", "locust FastHttpUser", ">= 10, aim 20")
ratio("cicada --workers 2", "locust FastHttpUser", ">= 10, aim 20")
