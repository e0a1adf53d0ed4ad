#!/usr/bin/env bash
# Maximum req/s against nginx on 127.0.0.1:8088: wrk vs Cicada vs Locust (FastHttpUser),
# 64 connections each, equal duration, interleaved rounds (A B C [D E] A B C [D E] ...).
#
#   bench/throughput.sh                # 3 rounds of 10 s, plus the 2-thread pair
#   ROUNDS=5 DURATION=10s PAIR2=0 bench/throughput.sh
#   CICADA=/path/to/cicada bench/throughput.sh
#
# Env: CICADA (default: release build in .build-bench), ROUNDS (3), DURATION (10s),
# CONNS (64), PAIR2 (1: also wrk -t2 vs Cicada --workers 2), PAUSE (2 s between runs).
# Output: bench/results/throughput-<stamp>/ (raw outputs, runs.tsv, summary.md), table on stdout.
. "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-${1:-3}}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-64}"
PAIR2="${PAIR2:-1}"
PAUSE="${PAUSE:-2}"

ensure_tools
ensure_cicada
ensure_locust
raise_nofile

OUT="$RESULTS/throughput-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
TSV="$OUT/runs.tsv"
printf 'round\ttool\treq_per_s\trequests\tgen_user_s\tgen_sys_s\tgen_wall_s\tgen_maxrss_kb\tnginx_cpu_s\n' > "$TSV"
CLK_TCK="$(getconf CLK_TCK)"

start_nginx
NGINX_MASTER="$(cat "$NGINX_PREFIX/nginx.pid")"
NGINX_WORKER="$(pgrep -P "$NGINX_MASTER" | head -1)"
nginx_cpu() { awk -v t="$CLK_TCK" '{printf "%.2f\n", ($14+$15)/t}' "/proc/$NGINX_WORKER/stat"; }

# time_run NAME CMD... : runs CMD under /usr/bin/time, output in $OUT/NAME.out, times in NAME.time
time_run() {
  local name="$1"; shift
  /usr/bin/time -f '%U %S %e %M' -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2>&1
}

record() { # round tool rps requests name nginx_before
  local r="$1" tool="$2" rps="$3" reqs="$4" name="$5" nb="$6" na
  na="$(nginx_cpu)"
  read -r u s e m < "$OUT/$name.time"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$tool" "$rps" "$reqs" "$u" "$s" "$e" "$m" \
    "$(awk -v a="$na" -v b="$nb" 'BEGIN{printf "%.2f", a-b}')" >> "$TSV"
  log "round $r $tool: $rps req/s (cpu user $u s, sys $s s)"
}

run_wrk() { # round threads
  local r="$1" t="$2" name="wrk-t$2-r$1" nb; nb="$(nginx_cpu)"
  time_run "$name" wrk -t"$t" -c"$CONNS" -d"$DURATION" "$NGINX_URL/"
  local rps reqs
  rps="$(awk '/^Requests\/sec:/{print $2}' "$OUT/$name.out")"
  reqs="$(awk '/requests in/{print $1}' "$OUT/$name.out")"
  record "$r" "wrk -t$t" "$rps" "$reqs" "$name" "$nb"
}

run_cicada() { # round workers
  local r="$1" w="$2" name="cicada-w$2-r$1" nb; nb="$(nginx_cpu)"
  time_run "$name" "$CICADA" run "$BENCH/scenarios/max-rps.yaml" --workers "$w" --quiet \
    -u "$CONNS" -t "$DURATION" --json "$OUT/$name.json"
  local rps reqs
  read -r rps reqs < <(/usr/bin/python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); t=d["totals"]
q=t["qps"] if t["qps"] is not None else t["requests"]/d["duration_s"]
print(round(q,1), t["requests"])' "$OUT/$name.json")
  record "$r" "cicada --workers $w" "$rps" "$reqs" "$name" "$nb"
}

run_locust() { # round
  local r="$1" name="locust-r$1" nb; nb="$(nginx_cpu)"
  (cd "$OUT" && time_run "$name" "$LOCUST" -f "$BENCH/locustfile.py" --headless -u "$CONNS" -r 1000 \
     -t "$DURATION" --host "$NGINX_URL" --csv "$OUT/$name" --only-summary)
  local rps reqs
  read -r rps reqs < <(awk -F, '$2=="Aggregated"{printf "%.1f %s\n", $10, $3}' "$OUT/${name}_stats.csv")
  record "$r" "locust FastHttpUser" "$rps" "$reqs" "$name" "$nb"
}

log "results in $OUT; $ROUNDS rounds of $DURATION, $CONNS connections"
for r in $(seq 1 "$ROUNDS"); do
  run_wrk "$r" 1;    sleep "$PAUSE"
  run_cicada "$r" 1; sleep "$PAUSE"
  run_locust "$r";   sleep "$PAUSE"
  if [ "$PAIR2" = 1 ]; then
    run_wrk "$r" 2;    sleep "$PAUSE"
    run_cicada "$r" 2; sleep "$PAUSE"
  fi
done
stop_nginx

{
  echo "Throughput, $(date -u +%Y-%m-%dT%H:%MZ): $(machine_info)"
  echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), Locust $("$LOCUST" --version 2>&1 | awk '{print $2}'), $ROUNDS interleaved rounds of $DURATION, $CONNS connections, GET / (3-byte body)"
  echo
  /usr/bin/python3 - "$TSV" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
tools = []
for r in rows:
    if r["tool"] not in tools: tools.append(r["tool"])
med = {}
print("| generator | runs (req/s) | median req/s | generator CPU (user+sys, % of one core) | CPU µs / request | nginx worker CPU (% of one core) |")
print("|---|---|---:|---:|---:|---:|")
for t in tools:
    rs = [r for r in rows if r["tool"] == t]
    q = [float(r["req_per_s"]) for r in rs]
    cpu = [(float(r["gen_user_s"]) + float(r["gen_sys_s"])) for r in rs]
    wall = [float(r["gen_wall_s"]) for r in rs]
    us = [c / int(r["requests"]) * 1e6 for c, r in zip(cpu, rs)]
    ng = [float(r["nginx_cpu_s"]) / w * 100 for r, w in zip(rs, wall)]
    med[t] = statistics.median(q)
    print(f"| {t} | {', '.join(f'{x:,.0f}' for x in q)} | {med[t]:,.0f} | "
          f"{statistics.median(c/w*100 for c, w in zip(cpu, wall)):.0f}% | {statistics.median(us):.1f} | {statistics.median(ng):.0f}% |")
print()
def ratio(a, b):
    if a in med and b in med: print(f"- {a} / {b} = **{med[a]/med[b]:.2f}** (medians)")
ratio("cicada --workers 1", "wrk -t1")
ratio("cicada --workers 2", "wrk -t2")
ratio("cicada --workers 1", "locust FastHttpUser")
ratio("cicada --workers 2", "locust FastHttpUser")
PY
  echo
  echo "Raw outputs: $OUT"
} | tee "$OUT/summary.md"
