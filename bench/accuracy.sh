#!/usr/bin/env bash
# Accuracy against a known truth: `cicada target` with a 20 ms service time and a 500 ms stall
# every 5 s; an open-model client at RATE req/s (constant spacing) for DURATION s should see the
# latencies bench/accuracy_truth.py computes. A second pass limits the client to SLOTS requests in
# flight (Cicada max_in_flight, like wrk -cSLOTS), so the client itself queues during a stall:
# coordinated omission; its truth is simulated (truth --slots). Compared: Cicada (corrected and raw), wrk (closed
# loop, -c1 and -c4; wrk2 -R too when installed) and Locust (FastHttpUser, USERS users with
# constant_throughput(RATE/USERS)), interleaved rounds (Cicada, wrk -c1, wrk -c4, Locust, ...).
#
#   bench/accuracy.sh                       # 3 rounds of 30 s at 100 req/s
#   ROUNDS=1 DURATION=10 bench/accuracy.sh  # a quick look
#   CICADA=/path/to/cicada bench/accuracy.sh
#
# Env: CICADA (default: release build in .build-bench), ROUNDS (3), DURATION (30, seconds),
# RATE (100), USERS (100, Locust), LOCUST_STAGGER (1: spread the users' first requests), PORT (8099), SERVICE_MS (20), STALL_EVERY_S (5),
# STALL_MS (500), QUIET_MAX / QUIET_WAIT (before each run, wait until the machine is idle: below
# QUIET_MAX % of one core, default 40, waiting at most QUIET_WAIT s, default 30).
# Output: bench/results/accuracy-<stamp>/ (truth.json, raw outputs, runs.tsv, summary.md).
. "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-${1:-3}}"
DURATION="${DURATION:-30}"
RATE="${RATE:-100}"
USERS="${USERS:-100}"
LOCUST_STAGGER="${LOCUST_STAGGER:-1}"
PORT="${PORT:-8099}"
SERVICE_MS="${SERVICE_MS:-20}"
STALL_EVERY_S="${STALL_EVERY_S:-5}"
STALL_MS="${STALL_MS:-500}"
SLOTS="${SLOTS:-4}"
export QUIET_MAX="${QUIET_MAX:-40}" QUIET_WAIT="${QUIET_WAIT:-30}"
URL="http://127.0.0.1:$PORT"

ensure_tools
ensure_cicada
ensure_locust
raise_nofile

OUT="$RESULTS/accuracy-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
TSV="$OUT/runs.tsv"
printf 'round\ttool\tp50\tp99\tp99_9\trequests\tmachine_busy_pct\tnote\n' > "$TSV"
TSV_SLOTS="$OUT/runs-$SLOTS-in-flight.tsv"
head -1 "$TSV" > "$TSV_SLOTS"

# 1. The truth.
/usr/bin/python3 "$BENCH/accuracy_truth.py" truth --rate "$RATE" --duration "$DURATION" \
  --service-ms "$SERVICE_MS" --every-s "$STALL_EVERY_S" --stall-ms "$STALL_MS" --json "$OUT/truth.json" >/dev/null
/usr/bin/python3 "$BENCH/accuracy_truth.py" truth --slots "$SLOTS" --rate "$RATE" --duration "$DURATION" \
  --service-ms "$SERVICE_MS" --every-s "$STALL_EVERY_S" --stall-ms "$STALL_MS" --json "$OUT/truth-$SLOTS-in-flight.json" >/dev/null
log "truth: $(/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print("p50 %.2f p99 %.2f p99.9 %.2f ms" % (t["p50"], t["p99"], t["p99_9"]))' "$OUT/truth.json")"

# 2. The target, for the whole script (the stall phase is measured from its start).
TARGET_PID=""
stop_target() {
  if [ -n "$TARGET_PID" ] && kill -0 "$TARGET_PID" 2>/dev/null; then
    kill "$TARGET_PID"; wait "$TARGET_PID" 2>/dev/null || true; log "target stopped"
  fi
  TARGET_PID=""
}
trap 'stop_target' EXIT
trap 'exit 130' INT TERM
"$CICADA" target --port "$PORT" --latency "${SERVICE_MS}ms" --stall-every "${STALL_EVERY_S}s" \
  --stall-for "${STALL_MS}ms" > "$OUT/target.log" 2>&1 &
TARGET_PID=$!
for i in $(seq 1 100); do
  curl -s -o /dev/null "$URL/health" 2>/dev/null && break
  kill -0 "$TARGET_PID" 2>/dev/null || { cat "$OUT/target.log" >&2; exit 1; }
  sleep 0.1
done
log "target up on $URL (pid $TARGET_PID)"

# Peers' helpers, written into the results so the run is self-contained.
cat > "$OUT/pcts.lua" <<'EOF'
-- wrk: print p50/p99/p99.9 (ms) and the request count at the end
done = function(summary, latency, requests)
  io.write(string.format("ACC %.3f %.3f %.3f %d\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, summary.requests))
end
EOF
# Locust starts all users of one second in one batch (-r 100 = 100 users at once) and anchors each
# user's constant_throughput grid at its creation, so by default the users fire in one burst per
# second. LOCUST_STAGGER=1 (default) delays user k's first request by k/RATE and re-anchors its
# grid there, so the arrivals are evenly spaced, as the truth assumes; LOCUST_STAGGER=0: bursts.
cat > "$OUT/locustfile.py" <<EOF
# Locust peer for bench/accuracy.sh: each user paced at $RATE/$USERS req/s (constant_throughput),
# so $USERS users offer $RATE req/s while every response takes < $USERS/$RATE s.
import itertools
import time

import gevent
from locust import FastHttpUser, constant_throughput, task

_next = itertools.count()


class Health(FastHttpUser):
    wait_time = constant_throughput($RATE / $USERS)

    def on_start(self):
        if $LOCUST_STAGGER:
            gevent.sleep((next(_next) % $USERS) / $RATE)
            # constant_pacing/constant_throughput anchor their grid at the user's creation
            # (User.__init__ sets _cp_last_run); re-anchor it here or the stagger is undone
            # after the first request and all users fire together again.
            self._cp_last_run = time.perf_counter()

    @task
    def health(self):
        self.client.get("/health")
EOF

busy0() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, t-$5-$6}' /proc/stat; }
busy_since() { busy0 | awk -v s="$1" -v n="$(nproc)" '{split(s,a," "); d=$1-a[1]; printf "%.0f", (d>0 ? ($2-a[2])/d*100*n : 0)}'; }
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$TSV"; }

run_cicada() { # round [slots]
  local r="$1" slots="${2:-}" name="cicada-r$1" scenario="$BENCH/scenarios/accuracy.yaml" tsv="$TSV" b
  if [ -n "$slots" ]; then
    name="cicada-$slots-in-flight-r$r"; tsv="$TSV_SLOTS"; scenario="$OUT/accuracy-$slots-in-flight.yaml"
    sed "s/max_in_flight: 1000/max_in_flight: $slots/" "$BENCH/scenarios/accuracy.yaml" > "$scenario"
  fi
  b="$(busy0)"
  "$CICADA" run "$scenario" --target "$URL" -t "${DURATION}s" --rate "$RATE" \
    --quiet --json "$OUT/$name.json" > "$OUT/$name.out" 2>&1 || log "cicada exited $? (see $OUT/$name.out)"
  local busy; busy="$(busy_since "$b")"
  /usr/bin/python3 - "$OUT/$name.json" "$r" "$busy" >> "$tsv" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); r, busy = sys.argv[2], sys.argv[3]
lat, t = d["latency_ms"], d["totals"]
lag = d.get("schedule_lag_ms") or {}
note = "lag p99 %s ms, max %s ms; failures %s" % (lag.get("p99"), lag.get("max"), t.get("failures"))
for kind in ("corrected", "raw"):
    h = lat[kind]
    print("\t".join(str(x) for x in (r, "Cicada " + kind, h["p50"], h["p99"], h["p99_9"], h["count"], busy, note)))
EOF
  log "round $r cicada${slots:+ ($slots in flight)}: $(tail -2 "$tsv" | cut -f2-5 | tr '\t\n' ' ')"
}

run_wrk() { # round conns [rate: wrk2]
  local r="$1" c="$2" rate="${3:-}" bin=wrk tool name b
  if [ -n "$rate" ]; then bin=wrk2; tool="wrk2 -t1 -c$c -R$rate"; name="wrk2-c$c-r$r"
  else tool="wrk -t1 -c$c (closed loop)"; name="wrk-c$c-r$r"; fi
  b="$(busy0)"
  $bin -t1 -c"$c" -d"${DURATION}s" ${rate:+-R"$rate"} --latency -s "$OUT/pcts.lua" "$URL/health" > "$OUT/$name.out" 2>&1 || true
  local busy; busy="$(busy_since "$b")"
  local p50 p99 p999 n
  read -r p50 p99 p999 n < <(awk '$1=="ACC"{print $2, $3, $4, $5}' "$OUT/$name.out")
  row "$r" "$tool" "${p50:-nan}" "${p99:-nan}" "${p999:-nan}" "${n:-}" "$busy" ""
  # wrk with as many connections as the limited client has slots: the closed-loop counterpart.
  if [ "$c" = "$SLOTS" ] && [ -z "$rate" ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$tool" "${p50:-nan}" "${p99:-nan}" "${p999:-nan}" "${n:-}" "$busy" "" >> "$TSV_SLOTS"
  fi
  log "round $r $tool: p50 $p50 p99 $p99 p99.9 $p999 ms ($n requests)"
}

run_locust() { # round
  local r="$1" name="locust-r$1" b; b="$(busy0)"
  (cd "$OUT" && "$LOCUST" -f "$OUT/locustfile.py" --headless -u "$USERS" -r "$USERS" -t "${DURATION}s" \
     --host "$URL" --csv "$OUT/$name" --only-summary > "$OUT/$name.out" 2>&1) || true
  local busy; busy="$(busy_since "$b")"
  local tool="Locust FastHttpUser"; [ "$LOCUST_STAGGER" = 1 ] && tool="$tool (staggered start)"
  /usr/bin/python3 - "$OUT/${name}_stats.csv" "$r" "$busy" "$tool" >> "$TSV" <<'EOF'
import csv, sys
r, busy = sys.argv[2], sys.argv[3]
for row in csv.DictReader(open(sys.argv[1])):
    if row["Name"] == "Aggregated":
        note = "failures %s, %s req/s" % (row["Failure Count"], row["Requests/s"])
        print("\t".join((r, sys.argv[4], row["50%"], row["99%"], row["99.9%"], row["Request Count"], busy, note)))
EOF
  log "round $r locust: $(tail -1 "$TSV" | cut -f2-5 | tr '\t' ' ')"
}

log "results in $OUT; $ROUNDS rounds of ${DURATION}s at $RATE req/s against $URL"
for r in $(seq 1 "$ROUNDS"); do
  wait_quiet; run_cicada "$r"
  wait_quiet; run_cicada "$r" "$SLOTS"
  wait_quiet; run_wrk "$r" 1
  wait_quiet; run_wrk "$r" 4
  if command -v wrk2 >/dev/null 2>&1; then wait_quiet; run_wrk "$r" 4 "$RATE"; fi
  wait_quiet; run_locust "$r"
done
stop_target

{
  echo "Accuracy, $(date -u +%Y-%m-%dT%H:%MZ): $(machine_info)"
  echo "Target: cicada target --latency ${SERVICE_MS}ms --stall-every ${STALL_EVERY_S}s --stall-for ${STALL_MS}ms (one process for the whole script);" \
    "$RATE req/s offered for ${DURATION}s, GET /health; $ROUNDS interleaved rounds;" \
    "$(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), Locust $("$LOCUST" --version 2>&1 | awk '{print $2}')$(command -v wrk2 >/dev/null 2>&1 && echo ', wrk2' || echo ', no wrk2 (not packaged)')"
  echo
  /usr/bin/python3 "$BENCH/accuracy_truth.py" table "$OUT/truth.json" "$TSV"
  echo
  echo "With at most $SLOTS requests in flight (the client queues during each stall: coordinated omission):"
  echo
  /usr/bin/python3 "$BENCH/accuracy_truth.py" table "$OUT/truth-$SLOTS-in-flight.json" "$TSV_SLOTS"
  echo
  echo "Raw outputs: $OUT"
} | tee "$OUT/summary.md"
