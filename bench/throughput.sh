#!/usr/bin/env bash
# Maximum req/s against nginx on 127.0.0.1:8088: Cicada vs wrk, h2load, hey, ab and Locust
# (FastHttpUser), 64 connections each, equal duration, interleaved rounds (A B C ... A B C ...).
#
#   bench/throughput.sh                # 3 rounds of 10 s, every tool, plus the 2-thread pair
#   ROUNDS=5 DURATION=10s PAIR2=0 bench/throughput.sh
#   TOOLS="wrk cicada h2load" bench/throughput.sh
#   CICADA=/path/to/cicada bench/throughput.sh
#
# Env: CICADA (default: release build in .build-bench), CICADA_BASELINE (another cicada binary,
# e.g. an older commit's, run with --workers 1 right after Cicada in each round), ROUNDS (3), DURATION (10s, whole
# seconds), CONNS (64), TOOLS (default "wrk cicada cicada-fast h2load hey ab locust locust-p2"), PAIR2 (1: also wrk -t2
# vs Cicada --workers 2), QUIET_MAX / QUIET_WAIT (before each run, wait until the machine is
# idle: below QUIET_MAX % of one core, waiting at most QUIET_WAIT s). Each run's record keeps the
# 1-minute load average at its start (load1) beside the CPU the rest of the machine used.
# Output: bench/results/throughput-<stamp>/ (raw outputs, runs.tsv, summary.md), table on stdout.
#
# Every tool holds CONNS keep-alive HTTP/1.x connections for DURATION; how each gets there:
#   wrk -t1 -cN -dD            1 thread, event loop (epoll), N connections
#   cicada --workers 1 -u N    1 load thread (libcurl multi, epoll), N users, no wait (closed model),
#                              --transport curl
#   cicada-fast --workers 1    the same with --transport fast: Cicada's own HTTP/1.1 client on one
#                              epoll loop per thread (no libcurl on the path)
#   h2load --h1 -t1 -cN -D D   1 thread, event loop (libev), N clients, HTTP/1.1
#   hey -cpus 1 -c N -z D      N goroutines ("workers") each with its own connection, Go runtime
#                              limited to 1 CPU for Go code (GOMAXPROCS=1; GC and syscalls may
#                              use more threads)
#   ab -k -c N -t D            1 thread, single select/poll loop, HTTP/1.0 with Keep-Alive;
#                              -n is set very high so the time limit ends the run
#   locust FastHttpUser -u N   1 Python process (gevent), N users, no wait
#   locust-p2 (--processes 2)  the same with Locust's --processes 2: a master and 2 forked
#                              worker processes (N users shared); Locust pinned in
#                              bench/requirements-locust.txt. Its CPU is that of all three
#                              processes (bench/reap.py waits for workers the master leaves)
. "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-${1:-3}}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-64}"
PAIR2="${PAIR2:-1}"
TOOLS="${TOOLS:-wrk cicada cicada-fast h2load hey ab locust locust-p2}"
DSEC="${DURATION%s}"
want() { case " $TOOLS " in *" $1 "*) return 0;; esac; return 1; }

ensure_tools
# the other load generators, from Debian: hey, h2load (nghttp2-client), ab (apache2-utils)
ensure_peers() {
  local missing="" p
  for p in hey nghttp2-client apache2-utils; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    log "apt-get install$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq $missing >/dev/null
  fi
}
ensure_peers
ensure_cicada
{ want locust || want locust-p2; } && ensure_locust
raise_nofile

OUT="$RESULTS/throughput-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
TSV="$OUT/runs.tsv"
printf 'round\ttool\treq_per_s\trequests\tgen_user_s\tgen_sys_s\tgen_wall_s\tgen_maxrss_kb\tnginx_cpu_s\tsteal_pct\tmachine_busy_pct\tload1\n' > "$TSV"
CLK_TCK="$(getconf CLK_TCK)"

start_nginx
NGINX_MASTER="$(cat "$NGINX_PREFIX/nginx.pid")"
NGINX_WORKER="$(pgrep -P "$NGINX_MASTER" | head -1)"
# all-CPU jiffies and steal jiffies from /proc/stat (steal: time the hypervisor gave elsewhere)
cpu_steal() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, $9, t-$5-$6}' /proc/stat; }
nginx_cpu() { awk -v t="$CLK_TCK" '{printf "%.2f\n", ($14+$15)/t}' "/proc/$NGINX_WORKER/stat"; }

# time_run NAME CMD... : runs CMD under /usr/bin/time, output in $OUT/NAME.out, times in NAME.time
time_run() {
  local name="$1"; shift
  /usr/bin/time -f '%U %S %e %M' -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2>&1
}

record() { # round tool rps requests name nginx_before
  local r="$1" tool="$2" rps="$3" reqs="$4" name="$5" nb="$6" na steal load1="${LOAD0:-}"
  na="$(nginx_cpu)"
  # steal % of all CPU time, and machine busy (all processes) in % of one core
  steal="$(cpu_steal | awk -v s="$STEAL0" -v n="$(nproc)" '{split(s,a," "); dt=$1-a[1]; st=0; b=0; if (dt>0) { st=($2-a[2])/dt*100; b=($3-a[3])/dt*100*n }; printf "%.1f\t%.0f", st, b}')"
  read -r u s e m < "$OUT/$name.time"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$tool" "$rps" "$reqs" "$u" "$s" "$e" "$m" \
    "$(awk -v a="$na" -v b="$nb" 'BEGIN{printf "%.2f", a-b}')" "$steal" "$load1" >> "$TSV"
  log "round $r $tool: $rps req/s (cpu user $u s, sys $s s; load average at start $load1)"
}

run_wrk() { # round threads
  local r="$1" t="$2" name="wrk-t$2-r$1" nb; nb="$(nginx_cpu)"; STEAL0="$(cpu_steal)"; LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  time_run "$name" wrk -t"$t" -c"$CONNS" -d"$DURATION" "$NGINX_URL/"
  local rps reqs
  rps="$(awk '/^Requests\/sec:/{print $2}' "$OUT/$name.out")"
  reqs="$(awk '/requests in/{print $1}' "$OUT/$name.out")"
  record "$r" "wrk -t$t" "$rps" "$reqs" "$name" "$nb"
}

run_cicada() { # round workers [binary label [extra flags...]]
  local r="$1" w="$2" bin="${3:-$CICADA}" label="${4:-cicada}"
  shift 4 2>/dev/null || shift $#
  local name="$label-w$w-r$r" nb; nb="$(nginx_cpu)"; STEAL0="$(cpu_steal)"; LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  time_run "$name" "$bin" run "$BENCH/scenarios/max-rps.yaml" --workers "$w" --quiet \
    -u "$CONNS" -t "$DURATION" --json "$OUT/$name.json" "$@"
  local rps reqs
  read -r rps reqs < <(/usr/bin/python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); t=d["totals"]
q=t["qps"] if t["qps"] is not None else t["requests"]/d["duration_s"]
print(round(q,1), t["requests"])' "$OUT/$name.json")
  record "$r" "$label --workers $w" "$rps" "$reqs" "$name" "$nb"
}

run_locust() { # round [processes]
  local r="$1" procs="${2:-1}" name="locust-r$1" label="locust FastHttpUser" nb extra=()
  if [ "$procs" -gt 1 ]; then name="locust-p$procs-r$r"; label="locust FastHttpUser --processes $procs"; extra=(--processes "$procs"); fi
  nb="$(nginx_cpu)"; STEAL0="$(cpu_steal)"; LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  (cd "$OUT" && time_run "$name" "$BENCH/reap.py" "$LOCUST" -f "$BENCH/locustfile.py" --headless -u "$CONNS" -r 1000 \
     -t "$DURATION" --host "$NGINX_URL" --csv "$OUT/$name" --only-summary "${extra[@]}")
  local rps reqs
  # req/s: the CSV's Aggregated row. Request count: the final printed summary (the CSV is
  # written every second, so its count can miss the last second; its req/s is a rate and is not).
  read -r rps reqs < <(awk -F, '$2=="Aggregated"{printf "%.1f %s\n", $10, $3}' "$OUT/${name}_stats.csv")
  local sreqs; sreqs="$(awk '$1=="Aggregated" && $3 ~ /\(/ {print $2; exit}' "$OUT/$name.out")"
  [ -n "$sreqs" ] && reqs="$sreqs"
  record "$r" "$label" "$rps" "$reqs" "$name" "$nb"
}

run_h2load() { # round
  local r="$1" name="h2load-r$1" nb; nb="$(nginx_cpu)"; STEAL0="$(cpu_steal)"; LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  time_run "$name" h2load --h1 -t1 -c"$CONNS" -D "$DSEC" "$NGINX_URL/"
  local rps reqs
  rps="$(awk '/^finished in/{gsub(",",""); print $4}' "$OUT/$name.out")"
  reqs="$(awk '/^requests:/{print $8}' "$OUT/$name.out")"   # "N succeeded"
  record "$r" "h2load -t1" "$rps" "$reqs" "$name" "$nb"
}

run_hey() { # round
  local r="$1" name="hey-r$1" nb; nb="$(nginx_cpu)"; STEAL0="$(cpu_steal)"; LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  time_run "$name" hey -cpus 1 -c "$CONNS" -z "$DURATION" "$NGINX_URL/"
  local rps reqs
  rps="$(awk '/Requests\/sec:/{print $2}' "$OUT/$name.out")"
  reqs="$(awk '/\[200\]/{print $2}' "$OUT/$name.out")"
  record "$r" "hey -cpus 1" "$rps" "$reqs" "$name" "$nb"
}

run_ab() { # round
  local r="$1" name="ab-r$1" nb; nb="$(nginx_cpu)"; STEAL0="$(cpu_steal)"; LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  # -t implies -n 50000, so -n comes after it: the time limit ends the run
  time_run "$name" ab -k -c "$CONNS" -t "$DSEC" -n 100000000 "$NGINX_URL/"
  local rps reqs
  rps="$(awk '/^Requests per second:/{print $4}' "$OUT/$name.out")"
  reqs="$(awk '/^Complete requests:/{print $3}' "$OUT/$name.out")"
  record "$r" "ab -k" "$rps" "$reqs" "$name" "$nb"
}

log "results in $OUT; $ROUNDS rounds of $DURATION, $CONNS connections; tools: $TOOLS"
for r in $(seq 1 "$ROUNDS"); do
  want wrk && { wait_quiet; run_wrk "$r" 1; }
  want cicada && { wait_quiet; run_cicada "$r" 1 "$CICADA" cicada --transport curl; }
  want cicada-fast && { wait_quiet; run_cicada "$r" 1 "$CICADA" cicada-fast --transport fast; }
  [ -n "${CICADA_BASELINE:-}" ] && { wait_quiet; run_cicada "$r" 1 "$CICADA_BASELINE" cicada-baseline; }
  want h2load && { wait_quiet; run_h2load "$r"; }
  want hey && { wait_quiet; run_hey "$r"; }
  want ab && { wait_quiet; run_ab "$r"; }
  want locust && { wait_quiet; run_locust "$r"; }
  want locust-p2 && { wait_quiet; run_locust "$r" 2; }
  if [ "$PAIR2" = 1 ]; then
    want wrk && { wait_quiet; run_wrk "$r" 2; }
    want cicada && { wait_quiet; run_cicada "$r" 2 "$CICADA" cicada --transport curl; }
    want cicada-fast && { wait_quiet; run_cicada "$r" 2 "$CICADA" cicada-fast --transport fast; }
  fi
done
stop_nginx

{
  echo "Throughput, $(date -u +%Y-%m-%dT%H:%MZ): $(machine_info)"
  echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), $(h2load --version 2>&1 | head -1), hey $(dpkg-query -W -f '${Version}' hey), ab $(ab -V 2>&1 | awk '/Version/{print $5}') (apache2-utils $(dpkg-query -W -f '${Version}' apache2-utils))$({ want locust || want locust-p2; } && echo ", Locust $("$LOCUST" --version 2>&1 | awk '{print $2}')"), $ROUNDS interleaved rounds of $DURATION, $CONNS connections, GET / (3-byte body)"
  echo
  /usr/bin/python3 "$BENCH/throughput_summary.py" "$TSV"
  echo
  echo "Raw outputs: $OUT"
} | tee "$OUT/summary.md"
