#!/usr/bin/env bash
# Generator CPU with 10,000 connections in flight: two Cicada binaries, interleaved (A B A B ...).
# The target (`cicada target`, 1 s service time, 1 thread) holds every request for 1 s, so all
# 10,000 users of bench/scenarios/footprint-inflight.yaml have a request (and a connection) open.
#
#   CICADA=/path/new/cicada CICADA_BASELINE=/path/old/cicada bench/inflight-ab.sh
#
# Env: CICADA (default: release build in .build-bench), CICADA_BASELINE (required), ROUNDS (3),
# DURATION (20 s), USERS (10000), QUIET_MAX / QUIET_WAIT as in lib.sh.
# Output: bench/results/inflight-ab-<stamp>/ (JSON reports, /usr/bin/time, summary.txt).
. "$(dirname "$0")/lib.sh"
ensure_tools
ensure_cicada
[ -x "${CICADA_BASELINE:-}" ] || { echo "set CICADA_BASELINE to a cicada binary" >&2; exit 1; }
raise_nofile
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-20}"; USERS="${USERS:-10000}"
OUT="$RESULTS/inflight-ab-$(date +%Y%m%d-%H%M%S)"; mkdir -p "$OUT"
"$CICADA" target --port 8089 --latency 1s --threads 1 > "$OUT/target.out" 2>&1 &
TARGET_PID=$!
trap 'kill "$TARGET_PID" 2>/dev/null || true' EXIT
for i in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:8089/count && break; sleep 0.2; done
busy() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, t-$5-$6}' /proc/stat; }
log "results in $OUT; $ROUNDS rounds of ${DURATION}s, $USERS users"
for r in $(seq 1 "$ROUNDS"); do
  for lb in "new:$CICADA" "baseline:$CICADA_BASELINE"; do
    l="${lb%%:*}"; b="${lb#*:}"
    wait_quiet
    b0="$(busy)"
    /usr/bin/time -f '%U %S %e %M' -o "$OUT/$l-r$r.time" "$b" run "$BENCH/scenarios/footprint-inflight.yaml" \
      -u "$USERS" -t "${DURATION}s" --quiet --json "$OUT/$l-r$r.json" > "$OUT/$l-r$r.out" 2>&1
    b1="$(busy)"
    /usr/bin/python3 - "$l" "$OUT/$l-r$r" "$b0" "$b1" "$r" "$(nproc)" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
label, base, b0, b1, rnd, ncpu = sys.argv[1:]
d = json.load(open(base + ".json")); t = d["totals"]
u, s, e, m = map(float, open(base + ".time").read().split())
a = list(map(float, b0.split())); b = list(map(float, b1.split()))
busy = (b[1] - a[1]) / (b[0] - a[0]) * 100 * int(ncpu)
c = d["latency_ms"]["corrected"]
print(f"{label}\tround {rnd}\t{t['qps']:.0f} req/s\t{t['requests']} requests\tfailures {t.get('failures')}\t"
      f"CPU {(u + s) / t['requests'] * 1e6:.1f} us/request (user {u:.1f} s, sys {s:.1f} s)\t"
      f"max RSS {m / 1024:.0f} MiB\tp50 {c['p50']:.1f} ms\tp99 {c['p99']:.1f} ms\tmachine busy {busy:.0f}% of one core")
PY
  done
done
log "raw outputs: $OUT"
