#!/usr/bin/env bash
# Stop signals at random instants (issue 12): RUNS runs of a 1 s scenario against the local
# test target, each sent SIGINT or SIGTERM (a quarter of them twice, 50 ms apart) at a random
# instant from 0 to 1.4 s after the run started: spawn, steady state, drain or report writing.
# Every JSON, JUnit and CSV file written must be whole and parse, no temporary file may be left,
# and the exit must be 105 (stopped during the load; stop_reason "interrupted") or 0 (the signal
# came after the load ended; "completed").
#
#   bench/signal-storm.sh            # 200 runs
#   RUNS=20 CICADA=.build/debug/cicada bench/signal-storm.sh
#
# Output: bench/results/signals-<stamp>/ (each run's files and stderr), summary on stdout.
. "$(dirname "$0")/lib.sh"
RUNS="${RUNS:-200}"
SEED="${SEED:-$RANDOM}"
ensure_cicada
OUT="$RESULTS/signals-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
cat > "$OUT/s.yaml" <<'YAML'
name: signal-storm
target: http://127.0.0.1:1
users: 20
spawn_rate: 40
run_time: 1s
wait_time: constant(0.005)
tasks: [{name: p, path: /health}]
thresholds: ['error_rate<50%']
telemetry: {gpu: none}
YAML
RANDOM=$SEED
bad=0; n105=0; n0=0; twice=0
for i in $(seq 1 "$RUNS"); do
  d="$OUT/run$i"; mkdir -p "$d"
  "$CICADA" run "$OUT/s.yaml" --local-target --quiet --stop-timeout 1s \
    --json "$d/r.json" --csv "$d/r" --junit "$d/r.xml" >"$d/stdout" 2>"$d/stderr" &
  pid=$!
  for _ in $(seq 1 300); do grep -q "cicada: running" "$d/stderr" 2>/dev/null && break; sleep 0.01; done
  delay=$(( RANDOM % 1400 ))
  sleep "$(printf '0.%03d' "$delay")"
  [ $(( RANDOM % 2 )) -eq 0 ] && sig=INT || sig=TERM
  kill -"$sig" "$pid" 2>/dev/null || true
  if [ $(( RANDOM % 4 )) -eq 0 ]; then sleep 0.05; kill -"$sig" "$pid" 2>/dev/null || true; twice=$((twice + 1)); fi
  set +e; wait "$pid"; rc=$?; set -e
  echo "$delay $sig $rc" > "$d/signal"
  if python3 - "$d" "$rc" <<'PY'
import csv, json, os, sys, xml.dom.minidom
d, rc = sys.argv[1], int(sys.argv[2])
assert rc in (0, 105), f"exit {rc}"
r = json.load(open(f"{d}/r.json"))
assert r["stop_reason"] == ("interrupted" if rc == 105 else "completed"), r["stop_reason"]
xml.dom.minidom.parse(f"{d}/r.xml")
for f in ("r_stats.csv", "r_failures.csv", "r_stats_history.csv"):
    text = open(f"{d}/{f}").read()
    assert text.endswith("\n"), f"{f} not whole"
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) >= 1 and all(len(x) == len(rows[0]) for x in rows), f"{f} has a short row"
left = [f for f in os.listdir(d) if ".tmp-" in f or f.endswith(".partial")]
assert not left, left
PY
  then
    [ "$rc" = 105 ] && n105=$((n105 + 1)) || n0=$((n0 + 1))
  else
    bad=$((bad + 1)); echo "run $i: FAILED (delay ${delay} ms, SIG$sig, exit $rc): see $d" >&2
  fi
done
echo "signal storm (seed $SEED): $RUNS runs, $twice with a second signal; exit 105: $n105, exit 0: $n0, broken: $bad"
[ "$bad" -eq 0 ]
