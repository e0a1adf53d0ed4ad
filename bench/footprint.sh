#!/usr/bin/env bash
# Cicada's memory against nginx on 127.0.0.1:8088 (VmRSS from /proc/PID/status).
#
#   bench/footprint.sh users   # RSS with 100, 1,000, 10,000 users (wait constant(1)), 40 s each
#   bench/footprint.sh soak    # 64 users, no wait, SOAK_DURATION s: RSS at 60 s vs at the end
#   bench/footprint.sh         # both
#   bench/footprint.sh inflight  # 10,000 users all in flight at once (a target with a 1 s service
#                                # time: Cicada's own test target on :8089), so 10,000 connections
#
# Env: CICADA (default: release build in .build-bench), USERS_LIST ("100 1000 10000"),
# USERS_DURATION (40s), REPEATS (3 runs per user count), SOAK_DURATION (600, seconds),
# SOAK_INTERVAL (5 s between samples), WORKERS (default: Cicada's default, one per core).
# Output: bench/results/footprint-<stamp>/ (rss-*.tsv samples, JSON reports, summary.md).
. "$(dirname "$0")/lib.sh"
MODE="${1:-all}"
USERS_LIST="${USERS_LIST:-100 1000 10000}"
USERS_DURATION="${USERS_DURATION:-40s}"
REPEATS="${REPEATS:-3}"
SOAK_DURATION="${SOAK_DURATION:-600}"
SOAK_INTERVAL="${SOAK_INTERVAL:-5}"
WORKERS="${WORKERS:-}"
WORKER_FLAG=(); [ -n "$WORKERS" ] && WORKER_FLAG=(--workers "$WORKERS")

ensure_tools
ensure_cicada
raise_nofile

OUT="$RESULTS/footprint-$(date +%Y%m%d-%H%M%S)-$MODE"
mkdir -p "$OUT"
start_nginx

# sample NAME INTERVAL CMD... : runs CMD in the background, writes "t_s rss_kb" lines to
# $OUT/rss-NAME.tsv every INTERVAL seconds until it exits; returns CMD's exit status.
sample() {
  local name="$1" every="$2"; shift 2
  "$@" > "$OUT/$name.out" 2>&1 &
  local pid=$! t0="$EPOCHREALTIME" rss st=0
  echo -e "t_s\trss_kb\tfds" > "$OUT/rss-$name.tsv"
  local fds
  while kill -0 "$pid" 2>/dev/null; do
    rss="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    fds="$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)"   # open descriptors: ~ one socket per connection
    [ -n "$rss" ] && awk -v a="$EPOCHREALTIME" -v b="$t0" -v r="$rss" -v f="$fds" \
      'BEGIN{printf "%.1f\t%s\t%s\n", a-b, r, f}' >> "$OUT/rss-$name.tsv"
    sleep "$every"
  done
  wait "$pid" || st=$?
  [ "$st" -eq 0 ] || log "$name: cicada exited with status $st (see $OUT/$name.out)"
  return 0
}

summary_py() {
/usr/bin/python3 - "$OUT" "$@" <<'PY'
import csv, json, os, statistics, sys
out, mode = sys.argv[1], sys.argv[2]
def rss(name):
    return [(float(r["t_s"]), int(r["rss_kb"]), int(r["fds"])) for r in csv.DictReader(open(f"{out}/rss-{name}.tsv"), delimiter="\t")]
def rep(name):
    p = f"{out}/{name}.json"
    return json.load(open(p)) if os.path.exists(p) else None
mb = lambda kb: kb / 1024
if mode in ("users", "inflight"):
    users, repeats = sys.argv[3].split(), int(sys.argv[4])
    print("| users | runs: peak RSS (MiB) | median peak RSS (MiB) | median RSS at end (MiB) | median req/s | failures | workers | max open fds |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for u in users:
        peaks, ends, qps, fails, workers, fds = [], [], [], 0, set(), 0
        for k in range(1, repeats + 1):
            name = f"users{u}-r{k}" if mode == "users" else f"inflight-r{k}"
            s = rss(name)
            peaks.append(mb(max(p[1] for p in s))); ends.append(mb(s[-1][1])); fds = max([fds] + [p[2] for p in s])
            d = rep(name)
            if d:
                qps.append(d["totals"]["qps"] or 0); fails += d["totals"]["failures"]; workers.add(d["workers"])
        print(f"| {int(u):,} | {', '.join(f'{p:.1f}' for p in peaks)} | {statistics.median(peaks):.1f} | "
              f"{statistics.median(ends):.1f} | {statistics.median(qps) if qps else float('nan'):,.0f} | {fails} | {','.join(map(str, sorted(workers)))} | {fds:,} |")
else:
    s = rss("soak")
    at60 = min(s, key=lambda p: abs(p[0] - 60))
    end = s[-1]
    d = rep("soak")
    print("| samples | RSS at ~60 s (MiB) | RSS at end (MiB) | growth | peak (MiB) | req/s | requests | failures | workers |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    g = (end[1] - at60[1]) / at60[1] * 100
    print(f"| {len(s)} | {mb(at60[1]):.1f} (t={at60[0]:.0f} s) | {mb(end[1]):.1f} (t={end[0]:.0f} s) | **{g:+.2f}%** | "
          f"{mb(max(p[1] for p in s)):.1f} | {d['totals']['qps'] if d else float('nan'):,.0f} | "
          f"{d['totals']['requests'] if d else 0:,} | {d['totals']['failures'] if d else '?'} | {d['workers'] if d else '?'} |")
    print()
    print("RSS by minute (MiB): " + ", ".join(
        f"{m}m {mb(min(s, key=lambda p: abs(p[0] - 60*m))[1]):.1f}" for m in range(1, int(end[0] // 60) + 1)))
    if d and d.get("timeline"):
        tl = [p["qps"] for p in d["timeline"] if p.get("qps") is not None]
        if tl:
            n = len(tl); q = lambda a, b: statistics.mean(tl[a:b]) if tl[a:b] else float("nan")
            print(f"\nreq/s in the first, middle and last tenth of the timeline: "
                  f"{q(0, n//10):,.0f}, {q(n*9//20, n*11//20):,.0f}, {q(n*9//10, n):,.0f}")
PY
}

{ echo "Footprint ($MODE), $(date -u +%Y-%m-%dT%H:%MZ): $(machine_info)"; echo; } > "$OUT/summary.md"

if [ "$MODE" = users ] || [ "$MODE" = all ]; then
  for k in $(seq 1 "$REPEATS"); do
    for u in $USERS_LIST; do
      wait_quiet
      log "users=$u run $k: $USERS_DURATION, wait constant(1)"
      sample "users$u-r$k" 1 "$CICADA" run "$BENCH/scenarios/footprint.yaml" -u "$u" -r 2000 \
        -t "$USERS_DURATION" --quiet "${WORKER_FLAG[@]}" --json "$OUT/users$u-r$k.json"
    done
  done
  { echo "RSS by users ($USERS_DURATION each, wait constant(1), spawn 2000/s, $REPEATS runs, interleaved):"; echo
    summary_py users "$USERS_LIST" "$REPEATS"; echo; } | tee -a "$OUT/summary.md"
fi

if [ "$MODE" = inflight ]; then
  INFLIGHT_USERS="${INFLIGHT_USERS:-10000}"
  "$CICADA" target --port 8089 --latency 1s --threads 1 > "$OUT/target.out" 2>&1 &
  TARGET_PID=$!
  trap 'kill "$TARGET_PID" 2>/dev/null || true; stop_nginx' EXIT
  for i in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:8089/count && break; sleep 0.2; done
  for k in $(seq 1 "$REPEATS"); do
    wait_quiet
    log "inflight: $INFLIGHT_USERS users, no wait, 1 s service time, run $k"
    sample "inflight-r$k" 1 "$CICADA" run "$BENCH/scenarios/footprint-inflight.yaml" -u "$INFLIGHT_USERS" \
      -t "$USERS_DURATION" --quiet "${WORKER_FLAG[@]}" --json "$OUT/inflight-r$k.json"
  done
  kill "$TARGET_PID" 2>/dev/null || true
  { echo "RSS with $INFLIGHT_USERS users all in flight ($USERS_DURATION, no wait, target with 1 s service time, $REPEATS runs):"; echo
    summary_py inflight "$INFLIGHT_USERS" "$REPEATS"; echo; } | tee -a "$OUT/summary.md"
fi

if [ "$MODE" = soak ] || [ "$MODE" = all ]; then
  wait_quiet
  log "soak: 64 users, no wait, ${SOAK_DURATION}s, RSS every ${SOAK_INTERVAL}s"
  sample soak "$SOAK_INTERVAL" "$CICADA" run "$BENCH/scenarios/max-rps.yaml" -t "${SOAK_DURATION}s" \
    --quiet "${WORKER_FLAG[@]}" --json "$OUT/soak.json"
  { echo "Soak (64 users, no wait, ${SOAK_DURATION} s):"; echo; summary_py soak; echo; } | tee -a "$OUT/summary.md"
fi
stop_nginx
echo "Raw outputs: $OUT" | tee -a "$OUT/summary.md"
