#!/usr/bin/env bash
# The embedded engine under 10x its sustainable rate (issue 12, "Overload and long runs").
#
# `cicada serve` runs as its own process (so its RSS is its own) with
# bench/scenarios/overload-engine.yaml: modelled A10 / deepseek-llm-7b / fp16, batches of at most
# 2, one instance, max_queue_size 32 (modelled capacity ~60 /predict req/s; measured sustainable
# 55 req/s, see RELIABILITY.md). Three `cicada run`s of bench/scenarios/overload.yaml (open
# model, constant arrivals, a unique input per request) follow each other against that one
# engine process:
#   before   MIN1 minutes at 0.5 x SUSTAINABLE
#   overload MIN2 minutes at 10 x SUSTAINABLE
#   after    MIN3 minutes at 0.5 x SUSTAINABLE   (recovery, on a fresh run against the same engine)
# Every second it samples the engine's VmRSS (/proc/PID/status), CPU and its /metrics (queue,
# requests held, answers by outcome); it scrapes /metrics in full at each phase boundary, so the
# engine's histogram of answer times gives each phase's admitted-request latency (Cicada's own
# percentiles time the fast 503s too).
#
#   bench/overload.sh                                   # 1 + 10 + 2 minutes (~13.5 min)
#   MIN1=0.25 MIN2=0.5 MIN3=0.25 bench/overload.sh      # the short version (~1 min)
#
# Env: CICADA (default: release build in .build-bench, built if missing), SUSTAINABLE (55 req/s),
# OVERLOAD_X (10), BASE_X (0.5), MIN1 (1), MIN2 (10), MIN3 (2), ENGINE_CONFIG
# (bench/scenarios/overload-engine.yaml), SERVE_ARGS (extra `cicada serve` flags, e.g.
# "--max-in-flight 64"), CLIENT_MAX_IN_FLIGHT (2000: the load generator's open-model
# max_in_flight), RSS_BOUND_MIB (64) and ADMITTED_BOUND_MS (2000): the bounds the summary
# checks (the engine's RSS; the slowest admitted answer under overload), QUIET_MAX/QUIET_WAIT
# (wait for a quiet machine first; defaults 30 and 60).
# Output: bench/results/overload-<stamp>/ (samples.tsv, metrics-*.txt, per-phase JSON reports,
# serve.log, summary.md); the summary on stdout. Exit 0 when every check held, 1 otherwise.
. "$(dirname "$0")/lib.sh"
SUSTAINABLE="${SUSTAINABLE:-55}"
OVERLOAD_X="${OVERLOAD_X:-10}"
BASE_X="${BASE_X:-0.5}"
MIN1="${MIN1:-1}"; MIN2="${MIN2:-10}"; MIN3="${MIN3:-2}"
ENGINE_CONFIG="${ENGINE_CONFIG:-$BENCH/scenarios/overload-engine.yaml}"
SERVE_ARGS="${SERVE_ARGS:-}"
RSS_BOUND_MIB="${RSS_BOUND_MIB:-64}"
ADMITTED_BOUND_MS="${ADMITTED_BOUND_MS:-2000}"
CLIENT_MAX_IN_FLIGHT="${CLIENT_MAX_IN_FLIGHT:-2000}"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

# summarize DIR: the per-phase table and the checks, from a finished run's files (also
# `bench/overload.sh --summarize DIR` on its own); exit 1 when a check failed.
summarize() {
  "$PY" - "$1" "$SUSTAINABLE" "$OVERLOAD_X" "$BASE_X" "$RSS_BOUND_MIB" "$CLK_TCK" "$ENGINE_CONFIG" "$SERVE_ARGS" "$ADMITTED_BOUND_MS" <<'PY' | tee "$1/summary.md"
import csv, json, math, re, sys
out, sustainable, over_x, base_x, rss_bound, clk, engine_config, serve_args, admitted_bound = sys.argv[1:]
rss_bound, clk, admitted_bound = float(rss_bound), int(clk), float(admitted_bound)
phases = list(csv.DictReader(open(f"{out}/phases.tsv"), delimiter="\t"))
samples = [r for r in csv.DictReader(open(f"{out}/samples.tsv"), delimiter="\t") if r["rss_kb"]]
for r in samples:
    r["t"] = float(r["t"])
t_origin = float(phases[0]["start"])

def metrics(path):
    """Prometheus text -> {name{labels}: value}."""
    d = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        k, v = line.rsplit(" ", 1)
        d[k] = float(v)
    return d

def histogram(m, outcome):
    """[(le seconds, cumulative count)] of the answer-time histogram for one outcome."""
    pts = []
    for k, v in m.items():
        g = re.match(r'cicada_engine_request_duration_seconds_bucket\{outcome="%s",le="([^"]+)"\}' % outcome, k)
        if g:
            pts.append((math.inf if g.group(1) == "+Inf" else float(g.group(1)), v))
    return sorted(pts)

def quantile(start, end, q):
    """q-quantile (ms) of the answers between two scrapes: linear within the bucket, and the
    bucket's upper bound (what the histogram can promise)."""
    a, b = dict(start), dict(end)
    les = sorted(b)
    counts = [b[le] - a.get(le, 0) for le in les]
    total = counts[-1] if counts else 0
    if total <= 0:
        return None, None, 0
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in zip(les, counts):
        if c >= rank:
            if math.isinf(le):
                return float("inf"), float("inf"), total
            frac = (rank - prev_c) / (c - prev_c) if c > prev_c else 1.0
            return (prev_le + frac * (le - prev_le)) * 1000, le * 1000, total
        prev_le, prev_c = le, c
    return None, None, total

def fmt(v, d=1):
    if v is None:
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f"{v:,.{d}f}"

rows, checks = [], []
for p in phases:
    name = p["phase"]
    rep = json.load(open(f"{out}/{name}.json"))
    t = rep["totals"]
    sc = t["status_codes"]
    ok, s503 = sc.get("200", 0), sc.get("503", 0)
    other = {k: v for k, v in sc.items() if k not in ("200", "503")}
    retry_after = sum(e["occurrences"] for e in rep["errors"] if e["message"] == "HTTP 503 (Retry-After 1s)")
    m0, m1 = metrics(f"{out}/metrics-{name}-start.txt"), metrics(f"{out}/metrics-{name}-end.txt")
    e50, e50le, n_ok = quantile(histogram(m0, "success"), histogram(m1, "success"), 0.50)
    e99, e99le, _ = quantile(histogram(m0, "success"), histogram(m1, "success"), 0.99)
    emax_le = None
    hs0, hs1 = dict(histogram(m0, "success")), dict(histogram(m1, "success"))
    for le in sorted(hs1):
        if hs1[le] - hs0.get(le, 0) == n_ok:
            emax_le = le * 1000
            break
    t0, t1 = float(p["start"]), float(p["end"])
    ss = [r for r in samples if t0 <= r["t"] <= t1]
    rss_max = max(int(r["rss_kb"]) for r in ss) / 1024 if ss else None
    rss_end = int(ss[-1]["rss_kb"]) / 1024 if ss else None
    cpu = (int(ss[-1]["cpu_ticks"]) - int(ss[0]["cpu_ticks"])) / clk / max(ss[-1]["t"] - ss[0]["t"], 1e-9) * 100 if len(ss) > 1 else None
    queue_max_seen = max(int(r["queue"] or 0) for r in ss) if ss else None
    inflight_seen = max(int(r["in_flight"] or 0) for r in ss) if ss else None
    c = rep["latency_ms"]["corrected"]
    rows.append(dict(name=name, rate=float(p["rate"]), secs=int(p["seconds"]), requests=t["requests"], ok=ok, s503=s503,
                     retry_after=retry_after, other=other, kinds={k: v for k, v in t["failures_by_kind"].items() if v and k != "http_5xx"},
                     c50=c["p50"], c99=c["p99"], cmax=c["max"], e50=e50, e50le=e50le, e99=e99, e99le=e99le, emax_le=emax_le,
                     n_ok=n_ok, rss_max=rss_max, rss_end=rss_end, cpu=cpu, qmax=queue_max_seen, fmax=inflight_seen,
                     dropped=rep["dropped"], cut_off=rep["cut_off"], lag99=rep["schedule_lag_ms"]["p99"],
                     gen_cpu=rep["generator_cpu_s"], qps=t["qps"], timeline=rep["timeline"], t0=t0, t1=t1))

last = metrics(f"{out}/metrics-{phases[-1]['phase']}-end.txt")
queue_limit = int(last.get("cicada_engine_queue_size_limit", -1))
queue_peak = int(last.get("cicada_engine_queue_size_max", -1))
held_limit = int(last.get("cicada_engine_requests_in_flight_limit", -1))
held_peak = int(last.get("cicada_engine_requests_in_flight_max", -1))

print(f"# Engine overload, {open(f'{out}/machine.txt').read().splitlines()[0]}")
print()
config_path = ("bench/" + engine_config.split("/bench/")[-1]) if "/bench/" in engine_config else engine_config
serve_cmd = f"cicada serve --config {config_path}" + (f" {serve_args}" if serve_args.strip() else "")
print(f"- engine: `{serve_cmd}` (own process); "
      f"modelled device, real HTTP, queueing and RSS")
print(f"- sustainable rate taken as {sustainable} req/s; phases at {base_x}x, {over_x}x, {base_x}x")
for line in open(f"{out}/machine.txt").read().splitlines()[1:]:
    print(f"- {line}")
print()
print("| phase | rate (req/s) | minutes | requests | 200 | 503 | 503 with Retry-After | other | client p50 / p99 all (ms) | admitted p50 / p99 (ms, engine) | admitted max (ms, engine, bucket) | engine RSS max (MiB) | engine CPU % | queue / held max seen |")
print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    other = ", ".join(f"{k}: {v}" for k, v in {**r["other"], **r["kinds"]}.items()) or "-"
    print(f"| {r['name']} | {r['rate']:g} | {r['secs']/60:g} | {r['requests']:,} | {r['ok']:,} | {r['s503']:,} | {r['retry_after']:,} | {other} | "
          f"{fmt(r['c50'])} / {fmt(r['c99'])} | {fmt(r['e50'])} / {fmt(r['e99'])} (<= {fmt(r['e50le'],0)} / {fmt(r['e99le'],0)}) | <= {fmt(r['emax_le'],0)} | "
          f"{fmt(r['rss_max'])} | {fmt(r['cpu'],0)} | {r['qmax']} / {r['fmax']} |")
print()
print(f"Engine bounds: queue limit {queue_limit} (peak {queue_peak}), requests held limit {held_limit} (peak {held_peak}).")
print("Client p50/p99 are Cicada's (corrected, every request: the 503s count at their ~1 ms); admitted p50/p99 are from the engine's")
print("answer-time histogram for successes between the phase's scrapes (interpolated in the bucket; '<=' the bucket's bound).")
late = [r["name"] for r in rows if (r["lag99"] or 0) > 10]
if late:
    print(f"NOTE: the load generator ran late (schedule lag p99 > 10 ms) in: {', '.join(late)}: the shared machine stalled it; "
          "its late arrivals then came in a burst, which shows in that phase's client and engine tails.")
print("Load generator: " + "; ".join(f"{r['name']} {r['gen_cpu']:.1f} CPU-s, schedule lag p99 {fmt(r['lag99'],2)} ms, dropped {r['dropped']}, cut off {r['cut_off']}" for r in rows))

b, o, a = rows[0], rows[1], rows[-1]
# RSS: the stated bound, and growth inside the overload phase (first sample after its first
# minute, or its first quarter if shorter, against its last).
ov = [r for r in samples if o["t0"] <= r["t"] <= o["t1"]]
settle = o["t0"] + min(60, (o["t1"] - o["t0"]) / 4)
ov_late = [r for r in ov if r["t"] >= settle]
rss_settled, rss_last = (int(ov_late[0]["rss_kb"]) / 1024, int(ov_late[-1]["rss_kb"]) / 1024) if ov_late else (None, None)
rss_all = max(int(r["rss_kb"]) for r in samples) / 1024
hwm = max(int(r["hwm_kb"]) for r in samples) / 1024
print()
print(f"Engine RSS: max {rss_all:.1f} MiB over the run (VmHWM {hwm:.1f} MiB), bound stated {rss_bound:g} MiB; in the overload phase "
      f"{fmt(rss_settled)} MiB at {settle - o['t0']:.0f} s and {fmt(rss_last)} MiB at its end.")
if ov:
    mins = int((o["t1"] - o["t0"]) // 60)
    if mins >= 2:
        by_min = []
        for k in range(1, mins + 1):
            near = min(ov, key=lambda r: abs(r["t"] - (o["t0"] + 60 * k)))
            by_min.append(f"{k}m {int(near['rss_kb'])/1024:.1f}")
        print("Overload RSS by minute (MiB): " + ", ".join(by_min))

# Recovery: the first seconds of the last phase, from its timeline.
tl = a["timeline"]
first_ok = next((p["t"] for p in tl if (p.get("failures_per_s") or 0) == 0 and (p.get("qps") or 0) > 0), None)
print()
print("After the overload (timeline of the last phase, per second): " + ", ".join(
    f"t={p['t']:.0f}s {p.get('qps') or 0:.0f}/s fail {p.get('failures_per_s') or 0:.0f}/s p99 {fmt(p.get('p99_ms'))}ms" for p in tl[:5]))

def check(name, ok, detail):
    checks.append(ok)
    print(f"- [{'x' if ok else ' '}] {name}: {detail}")

print()
print("Checks:")
check("no 503 at the base rate before", b["s503"] == 0 and b["ok"] == b["requests"], f"{b['ok']:,} of {b['requests']:,} answered 200")
check("503s under overload, every one with Retry-After", o["s503"] > 0 and o["retry_after"] == o["s503"],
      f"{o['s503']:,} 503s, {o['retry_after']:,} with 'Retry-After 1s'")
check("nothing but 200 and 503 under overload", not o["other"] and not o["kinds"], f"{o['other'] or o['kinds'] or 'none'}")
check("admitted latency bounded under overload", o["emax_le"] is not None and not math.isinf(o["emax_le"]) and o["emax_le"] <= admitted_bound,
      f"every admitted answer within {fmt(o['emax_le'],0)} ms (bound stated {admitted_bound:g} ms)" if o["n_ok"] else "no answer-time histogram from this engine build")
check("the queue never passed its bound", queue_limit > 0 and queue_peak <= queue_limit,
      f"peak {queue_peak} of {queue_limit}" if queue_limit > 0 else ("unbounded (max_queue_size 0)" if queue_limit == 0 else "not reported by this engine build"))
check("requests held never passed max_in_flight", held_limit > 0 and held_peak <= held_limit,
      f"peak {held_peak} of {held_limit}" if held_limit > 0 else "not reported by this engine build")
check(f"RSS within the stated {rss_bound:g} MiB", rss_all <= rss_bound, f"max {rss_all:.1f} MiB")
check("RSS flat through the overload", rss_settled is not None and rss_last - rss_settled <= max(2.0, 0.05 * rss_settled),
      f"{fmt(rss_settled)} -> {fmt(rss_last)} MiB")
rec_rate = a["ok"] / a["requests"] if a["requests"] else 0
check("recovered: success rate after", rec_rate >= 0.999, f"{rec_rate*100:.2f}% ({a['ok']:,} of {a['requests']:,})")
# The reference is the median of the first phase's per-second (sliding-window) p99: one stall of
# the shared machine in that phase must not make any "after" look recovered.
win = sorted(p["p99_ms"] for p in b["timeline"] if p.get("p99_ms") is not None)
ref = win[len(win) // 2] if win else b["c99"]
check("recovered: p99 after near p99 before", a["c99"] is not None and ref is not None and a["c99"] <= 1.5 * ref + 10,
      f"{fmt(a['c99'])} ms after (whole phase) vs {fmt(ref)} ms before (median of its per-second p99; whole phase {fmt(b['c99'])} ms); holds if <= 1.5x + 10 ms")
check("recovered: p50 after as before", a["c50"] is not None and b["c50"] is not None and a["c50"] <= 1.1 * b["c50"] + 2,
      f"{fmt(a['c50'])} ms after vs {fmt(b['c50'])} ms before (holds if <= 1.1x + 2 ms)")
rc = open(f"{out}/serve.rc").read().strip()
log = open(f"{out}/serve.log").read().strip().splitlines()
check("the engine stopped cleanly on SIGTERM", rc == "0", f"exit {rc}; {log[-1] if log else ''}")
print()
print("RESULT: " + ("every check held" if all(checks) else "SOME CHECK FAILED"))
sys.exit(0 if all(checks) else 1)
PY
}

if [ "${1:-}" = "--summarize" ]; then
  # shellcheck disable=SC1091
  . "$2/settings.env"
  summarize "$2"
  exit $?
fi

ensure_cicada
raise_nofile

OUT="$RESULTS/overload-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
log "results in $OUT"
SCENARIO="$OUT/scenario.yaml"
sed "s/max_in_flight: 2000/max_in_flight: $CLIENT_MAX_IN_FLIGHT/" "$BENCH/scenarios/overload.yaml" > "$SCENARIO"
cp "$ENGINE_CONFIG" "$OUT/engine.yaml"
CLK_TCK="$(getconf CLK_TCK)"
for v in SUSTAINABLE OVERLOAD_X BASE_X RSS_BOUND_MIB ADMITTED_BOUND_MS CLK_TCK ENGINE_CONFIG SERVE_ARGS; do
  printf '%s=%q\n' "$v" "${!v}"
done > "$OUT/settings.env"

# A port that was free a moment ago.
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"

QUIET_MAX="${QUIET_MAX:-30}" QUIET_WAIT="${QUIET_WAIT:-60}" wait_quiet
{
  echo "machine: $(machine_info)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "busiest processes before (% of one core since each started): $(ps -eo pcpu=,comm= --sort=-pcpu | head -5 | awk '{printf "%s%s %s%%", (NR>1?", ":""), $2, $1}')"
} > "$OUT/machine.txt"

# shellcheck disable=SC2086
"$CICADA" serve --config "$ENGINE_CONFIG" --port "$PORT" $SERVE_ARGS > "$OUT/serve.log" 2>&1 &
SERVE_PID=$!
SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  kill "$SERVE_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do curl -sf "$URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$URL/health" >/dev/null || { cat "$OUT/serve.log" >&2; echo "engine did not come up" >&2; exit 1; }
log "engine pid $SERVE_PID on $URL: $(head -1 "$OUT/serve.log")"

# Every second: time, VmRSS kB, VmHWM kB, threads, open fds, engine CPU ticks, and from /metrics:
# queue size, requests held, and the answers so far by outcome.
sampler() {
  echo -e "t\trss_kb\thwm_kb\tthreads\tfds\tcpu_ticks\tqueue\tin_flight\tsuccess\toverload\tqueue_full\ttimeout\tcancelled"
  while kill -0 "$SERVE_PID" 2>/dev/null; do
    local st m
    st="$(awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} /^Threads:/{t=$2} END{print r"\t"h"\t"t}' "/proc/$SERVE_PID/status" 2>/dev/null || true)"
    [ -z "$st" ] && break
    m="$(curl -s --max-time 2 "$URL/metrics" | awk '
      /^cicada_engine_queue_size /{q=$2} /^cicada_engine_requests_in_flight /{f=$2}
      /outcome="success"}/ && /requests_total/{s=$2} /outcome="overload"}/{o=$2}
      /outcome="rejected_queue_full"}/{qf=$2} /outcome="rejected_timeout"}/{to=$2} /outcome="cancelled"}/{c=$2}
      END{printf "%s\t%s\t%d\t%d\t%d\t%d\t%d", q, f, s, o, qf, to, c}')"
    printf '%s\t%s\t%s\t%s\t%s\n' "$EPOCHREALTIME" "$st" "$(ls "/proc/$SERVE_PID/fd" 2>/dev/null | wc -l)" \
      "$(awk '{print $14+$15}' "/proc/$SERVE_PID/stat" 2>/dev/null)" "$m"
    sleep 1
  done
}
sampler > "$OUT/samples.tsv" &
SAMPLER_PID=$!

rate_of() { awk -v s="$SUSTAINABLE" -v x="$1" 'BEGIN{printf "%g", s*x}'; }
secs_of() { awk -v m="$1" 'BEGIN{printf "%d", m*60 + 0.5}'; }
echo -e "phase\trate\tseconds\tstart\tend\trc" > "$OUT/phases.tsv"
run_phase() {
  local name="$1" rate="$2" secs="$3" seed="$4" t0 t1 rc
  curl -s "$URL/metrics" > "$OUT/metrics-$name-start.txt"
  log "$name: $rate req/s for ${secs}s"
  t0="$EPOCHREALTIME"
  set +e
  "$CICADA" run "$SCENARIO" --target "$URL" --rate "$rate" -t "${secs}s" --seed "$seed" --quiet \
    --json "$OUT/$name.json" > "$OUT/$name.out" 2> "$OUT/$name.err"
  rc=$?
  set -e
  t1="$EPOCHREALTIME"
  curl -s "$URL/metrics" > "$OUT/metrics-$name-end.txt"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rate" "$secs" "$t0" "$t1" "$rc" >> "$OUT/phases.tsv"
  # 0: passed; 99: a threshold failed (none here). Anything else lost the report.
  [ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || log "WARNING: $name exited $rc (see $OUT/$name.err)"
}
# A different seed per phase: the UUIDs in the inputs differ, so no phase hits the cache.
run_phase before "$(rate_of "$BASE_X")" "$(secs_of "$MIN1")" 101
run_phase overload "$(rate_of "$OVERLOAD_X")" "$(secs_of "$MIN2")" 102
run_phase after "$(rate_of "$BASE_X")" "$(secs_of "$MIN3")" 103
sleep 1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
kill -TERM "$SERVE_PID"
SERVE_RC=0; wait "$SERVE_PID" || SERVE_RC=$?
echo "$SERVE_RC" > "$OUT/serve.rc"
trap - EXIT

summarize "$OUT"
