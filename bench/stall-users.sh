#!/usr/bin/env bash
# Cicada itself against a server that never answers (issue 12): USERS closed-model users, then
# an open model at RATE arrivals/s with MAX_IN_FLIGHT slots, each for SECONDS against the fault
# target's `stall` (it reads every request and never answers). What must hold: the run ends on
# time (run time + stop timeout), every request is accounted for (cut off or dropped), the
# open model's queue stays bounded, Cicada's memory stays bounded, and the exit code says so.
#
#   bench/stall-users.sh                        # 10,000 users; 2,000/s with 10,000 slots; 20 s each
#   USERS=2000 SECONDS_EACH=5 CICADA=.build/debug/cicada bench/stall-users.sh
#
# Output: bench/results/stall-<stamp>/ (reports, /usr/bin/time output), summary on stdout.
. "$(dirname "$0")/lib.sh"
USERS="${USERS:-10000}"; RATE="${RATE:-2000}"; MAX_IN_FLIGHT="${MAX_IN_FLIGHT:-10000}"; SECONDS_EACH="${SECONDS_EACH:-20}"
ensure_cicada
OUT="$RESULTS/stall-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CICADA" target --port "$PORT" --faults stall --threads 2 >"$OUT/target.log" 2>&1 &
TARGET=$!
trap 'kill $TARGET 2>/dev/null || true' EXIT
# Up once a connect works (curl then times out waiting for an answer: exit 28, not 7).
for _ in $(seq 1 100); do c=0; curl -s -o /dev/null -m 0.2 "http://127.0.0.1:$PORT/" || c=$?; [ "$c" -ne 7 ] && break; sleep 0.05; done
ulimit -n "$(ulimit -Hn)"
common="target: http://127.0.0.1:$PORT
run_time: ${SECONDS_EACH}s
timeouts: {connect: 5s, request: 120s}
telemetry: {gpu: none, scrape_target: false}
tasks: [{name: predict, path: /predict, json: {input: x}}]"
printf 'name: stall-closed\nusers: %s\nspawn_rate: %s\n%s\n' "$USERS" "$USERS" "$common" > "$OUT/closed.yaml"
printf 'name: stall-open\narrival: {rate: %s, max_in_flight: %s}\n%s\n' "$RATE" "$MAX_IN_FLIGHT" "$common" > "$OUT/open.yaml"
for model in closed open; do
  set +e
  /usr/bin/time -v "$CICADA" run "$OUT/$model.yaml" --quiet --stop-timeout 5s --json "$OUT/$model.json" \
    >"$OUT/$model.out" 2>"$OUT/$model.time"
  rc=$?
  set -e
  python3 - "$OUT/$model.json" "$OUT/$model.time" "$model" "$rc" "$SECONDS_EACH" <<'PY'
import json, re, sys
report, timing, model, rc, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
d = json.load(open(report)); t = open(timing).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", t).group(1)
lag = d.get("schedule_lag_ms") or {}
print(f"{model}: exit {rc}, {d['duration_s']:.1f} s (run {secs:.0f} s + stop timeout), wall {wall}, "
      f"requests {d['totals']['requests']}, cut off {d['cut_off']}, dropped {d['dropped']}, "
      f"lag p99 {lag.get('p99')} ms, max RSS {rss:.0f} MiB")
PY
done
