#!/usr/bin/env bash
# Distributed runs (issue 13), two benchmarks:
#   bench/merge.sh artifacts   merge time and peak RSS of `cicada merge` over 8, 32 and 64 shard
#                              artifacts made by real `--shard I/N` runs against `cicada target`
#   bench/merge.sh shards      4 local shards vs one process with the same total open load on
#                              nginx (bench/nginx.conf): merged req/s and p99 vs the single run's
#   bench/merge.sh             both
# Knobs: SIZES ("8 32 64"), MERGES (5 timed merges per size), RATE (4000/s), SECONDS_RUN (10),
# ROUNDS (3, single and 4-shard runs interleaved). Outputs in bench/results/merge/.
. "$(dirname "$0")/lib.sh"
OUT="$RESULTS/merge"
mkdir -p "$OUT"
ensure_cicada
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
log "machine: $(machine_info)"
log "cicada: $CICADA ($("$CICADA" --version 2>&1 | head -1))"

# Shard artifacts for N shards of a 1 s, three-task open scenario (real runs, 8 at a time).
make_artifacts() {
  local n=$1 dir="$OUT/art-$1" i
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$OUT/artifacts.yaml" <<'EOF'
name: merge-bench
target: http://127.0.0.1:1
seed: 13
arrival: {rate: 2000, process: poisson}
run_time: 1s
tasks:
  - {name: chat, path: /health, weight: 3}
  - {name: embed, path: /status/200, weight: 2}
  - {name: slow, path: /health}
thresholds: ["p(99)<2s", "error_rate<1%"]
EOF
  local pids=()
  for i in $(seq 0 $((n - 1))); do
    "$CICADA" run "$OUT/artifacts.yaml" --target "http://127.0.0.1:$TARGET_PORT" --workers 1 --quiet --headless \
      --shard "$i/$n" --out "$dir" >"$dir.log.$i" 2>&1 &
    pids+=($!)
    if [ ${#pids[@]} -eq 8 ]; then wait "${pids[@]}" || true; pids=(); fi
  done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || true
  local got; got=$(ls "$dir"/shard-*.json | wc -l)
  [ "$got" -eq "$n" ] || { echo "only $got of $n artifacts in $dir (see $dir.log.*)" >&2; exit 1; }
  rm -f "$dir".log.*
}

bench_artifacts() {
  TARGET_PORT=${TARGET_PORT:-18090}
  "$CICADA" target --port "$TARGET_PORT" --latency 1ms >"$OUT/target.log" 2>&1 &
  local tpid=$! n k
  trap 'kill $tpid 2>/dev/null || true' EXIT
  sleep 1
  printf '%-6s %-10s %-14s %-14s %s\n' shards bytes "wall s (med)" "RSS MiB (med)" "walls / RSS KiB of each merge" | tee "$OUT/artifacts.txt"
  for n in ${SIZES:-8 32 64}; do
    make_artifacts "$n"
    local bytes; bytes=$(cat "$OUT/art-$n"/shard-*.json | wc -c)
    : >"$OUT/times-$n"
    "$CICADA" merge "$OUT/art-$n" --plain >"$OUT/merge-$n.txt" 2>&1 || true   # warm-up, and the summary kept
    for k in $(seq 1 "${MERGES:-5}"); do
      /usr/bin/time -f '%e %M' -a -o "$OUT/times-$n" "$CICADA" merge "$OUT/art-$n" --plain >/dev/null 2>&1 || true
    done
    printf '%-6s %-10s %-14s %-14s %s\n' "$n" "$bytes" "$(awk '{print $1}' "$OUT/times-$n" | median)" \
      "$(awk '{printf "%.1f\n", $2/1024}' "$OUT/times-$n" | median)" "$(tr '\n' ' ' <"$OUT/times-$n")" | tee -a "$OUT/artifacts.txt"
  done
  kill $tpid 2>/dev/null || true
  trap - EXIT
}

# One open-model run: the rate, time and target of the whole; the figures from its JSON report.
figures() { python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]; c = r["latency_ms"]["corrected"]
print(f"{t['requests']} {t['qps']:.1f} {c['p99']:.2f}")
EOF
}

bench_shards() {
  ensure_tools
  start_nginx
  local rate=${RATE:-4000} secs=${SECONDS_RUN:-10} round i start
  cat >"$OUT/shards.yaml" <<EOF
name: shards-bench
target: $NGINX_URL
seed: 21
arrival: {rate: $rate, process: poisson}
run_time: ${secs}s
tasks:
  - {name: root, path: /}
EOF
  printf '%-5s %-8s %-9s %-9s %s\n' round mode requests "req/s" "p99 ms (corrected)" | tee "$OUT/shards.txt"
  for round in $(seq 1 "${ROUNDS:-3}"); do
    wait_quiet
    "$CICADA" run "$OUT/shards.yaml" --quiet --headless --workers 2 --json "$OUT/single-$round.json" >"$OUT/single-$round.log" 2>&1 || true
    printf '%-5s %-8s %s\n' "$round" single "$(figures "$OUT/single-$round.json")" | tee -a "$OUT/shards.txt"
    wait_quiet
    rm -rf "$OUT/four-$round"
    start=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
    local pids=()
    for i in 0 1 2 3; do
      "$CICADA" run "$OUT/shards.yaml" --quiet --headless --workers 1 --shard "$i/4" --start-at "$start" \
        --out "$OUT/four-$round" >"$OUT/four-$round.log.$i" 2>&1 &
      pids+=($!)
    done
    wait "${pids[@]}" || true
    "$CICADA" merge "$OUT/four-$round" --json "$OUT/four-$round.json" >"$OUT/four-$round.merge.txt" 2>&1 || true
    printf '%-5s %-8s %s\n' "$round" 4-shards "$(figures "$OUT/four-$round.json")" | tee -a "$OUT/shards.txt"
  done
}

case "${1:-all}" in
  artifacts) bench_artifacts ;;
  shards) bench_shards ;;
  all) bench_artifacts; bench_shards ;;
  *) echo "usage: bench/merge.sh [artifacts|shards|all]" >&2; exit 2 ;;
esac
