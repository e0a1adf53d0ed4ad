#!/usr/bin/env bash
# Would io_uring make the fast transport cheaper? (issue 17: "consider io_uring; measure before
# keeping it"). Runs bench/uring-probe.c, the same closed-loop keep-alive GET generator with an
# epoll loop (the fast transport's design) and with io_uring (liburing: linked send+recv per
# connection, one io_uring_submit_and_wait per batch), interleaved with wrk -t1, against the
# benchmark nginx, ROUNDS times. Prints each run and the medians; BENCHMARKS.md section 16.
#
#   bench/uring-probe.sh                       # 5 rounds of 5 s, 64 connections
#   ROUNDS=3 DURATION=10 CONNS=256 bench/uring-probe.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
CONNS="${CONNS:-64}"
ensure_tools
dpkg -s liburing-dev >/dev/null 2>&1 || { log "apt-get install liburing-dev"; apt-get install -y -qq liburing-dev >/dev/null; }
PROBE="$RESULTS/uring-probe"
cc -O2 -Wall -o "$PROBE" "$BENCH/uring-probe.c" -luring
raise_nofile
start_nginx
OUT="$RESULTS/uring-probe-$(date +%Y%m%dT%H%M%S)"
mkdir -p "$OUT"
log "$(machine_info); $CONNS connections, $DURATION s runs, $ROUNDS rounds; results in $OUT"
for r in $(seq 1 "$ROUNDS"); do
  for mode in epoll uring; do
    wait_quiet
    "$PROBE" "$mode" 127.0.0.1 8088 "$CONNS" "$DURATION" | tee -a "$OUT/$mode.txt"
  done
  wait_quiet
  /usr/bin/time -f 'cpu %U %S' wrk -t1 -c"$CONNS" -d"${DURATION}s" "$NGINX_URL/" > "$OUT/wrk-$r.txt" 2>&1
  awk -v d="$DURATION" '/Requests\/sec/{rps=$2} /requests in/{n=$1} /^cpu /{u=$2; s=$3}
    END{printf "mode=wrk-t1 requests=%d req_s=%.0f cpu_us_per_req=%.2f user_us=%.2f sys_us=%.2f\n", n, rps, (u+s)*1e6/n, u*1e6/n, s*1e6/n}' \
    "$OUT/wrk-$r.txt" | tee -a "$OUT/wrk.txt"
done
echo
printf '%-8s %14s %22s %10s %10s\n' mode 'median req/s' 'median CPU µs/request' user sys
for mode in epoll uring wrk; do
  f="$OUT/$mode.txt"
  printf '%-8s %14s %22s %10s %10s\n' "$mode" \
    "$(sed -n 's/.*req_s=\([0-9.]*\).*/\1/p' "$f" | median)" \
    "$(sed -n 's/.*cpu_us_per_req=\([0-9.]*\).*/\1/p' "$f" | median)" \
    "$(sed -n 's/.*user_us=\([0-9.]*\).*/\1/p' "$f" | median)" \
    "$(sed -n 's/.*sys_us=\([0-9.]*\).*/\1/p' "$f" | median)"
done
echo "uring/epoll per round (req/s):"
paste <(sed -n 's/.*req_s=\([0-9.]*\).*/\1/p' "$OUT/uring.txt") <(sed -n 's/.*req_s=\([0-9.]*\).*/\1/p' "$OUT/epoll.txt") |
  awk '{printf "  %.2f", $1/$2} END{print ""}'
