#!/usr/bin/env bash
# Two or more Cicada binaries A/B on the fast path against the benchmark nginx, each round
# running every binary and then wrk -t1, interleaved (BENCHMARKS.md section 16a): per run req/s
# and generator CPU per request (user, system) from /usr/bin/time.
#
#   bench/ab-fast.sh before=/path/to/old/cicada after=.build/release/cicada
#   ROUNDS=4 SECONDS_EACH=8 WORKERS=1 bench/ab-fast.sh a=... b=...
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-4}"; SECONDS_EACH="${SECONDS_EACH:-8}"; WORKERS="${WORKERS:-1}"
[ "$#" -ge 1 ] || { echo "usage: bench/ab-fast.sh label=binary [label=binary ...]" >&2; exit 2; }
ensure_tools
raise_nofile
start_nginx
OUT="$RESULTS/ab-fast-$(date +%Y%m%dT%H%M%S)"; mkdir -p "$OUT"
log "$(machine_info); $ROUNDS rounds of $SECONDS_EACH s, --workers $WORKERS; results in $OUT"
per_request() { # label requests user sys req/s
  awk -v l="$1" -v n="$2" -v u="$3" -v s="$4" -v q="$5" 'BEGIN{printf "%-10s %9.0f req/s  CPU %.2f us/request (user %.2f, sys %.2f)\n", l, q, (u+s)*1e6/n, u*1e6/n, s*1e6/n}'
}
for r in $(seq 1 "$ROUNDS"); do
  for lb in "$@"; do
    l="${lb%%=*}"; b="${lb#*=}"
    wait_quiet
    /usr/bin/time -f "%U %S" -o "$OUT/$l-$r.time" "$b" run "$BENCH/scenarios/max-rps.yaml" --workers "$WORKERS" --quiet -u 64 \
      -t "${SECONDS_EACH}s" --transport fast --json "$OUT/$l-$r.json" > /dev/null 2>&1
    read -r n q < <(/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["requests"], t["qps"])' "$OUT/$l-$r.json")
    read -r u s < "$OUT/$l-$r.time"
    per_request "$l" "$n" "$u" "$s" "$q" | tee -a "$OUT/runs.txt"
  done
  wait_quiet
  /usr/bin/time -f "%U %S" -o "$OUT/wrk-$r.time" wrk -t"$WORKERS" -c64 -d"${SECONDS_EACH}s" "$NGINX_URL/" > "$OUT/wrk-$r.txt" 2>&1
  n="$(awk '/requests in/{print $1}' "$OUT/wrk-$r.txt")"; q="$(awk '/Requests\/sec/{print $2}' "$OUT/wrk-$r.txt")"
  read -r u s < "$OUT/wrk-$r.time"
  per_request wrk "$n" "$u" "$s" "$q" | tee -a "$OUT/runs.txt"
done
