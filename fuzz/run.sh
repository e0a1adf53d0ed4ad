#!/usr/bin/env bash
# Builds the libFuzzer targets (Swift's -sanitize=fuzzer with address sanitizer) and runs each
# for SECONDS_EACH seconds from a seed corpus made of the project's own scenarios and fixtures.
# Fails on the first crash, sanitizer report, timeout (a single input over 10 s) or
# out-of-memory (2 GB); the input that did it is kept in fuzz/artifacts/ to become a test.
#
#   fuzz/run.sh                          # every target, 30 s each
#   SECONDS_EACH=600 fuzz/run.sh FuzzSSE # one target, longer
#   RUNS=10000000 fuzz/run.sh FuzzJSON   # a fixed number of executions instead of a time
#   RUNS=30000 FUZZ_SEED=1 FUZZ_WORK=$(mktemp -d) fuzz/run.sh   # what CI runs: the same inputs every time
#
# Output: one line per target with its executions, then libFuzzer's own log in fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${SECONDS_EACH:-30}"
TARGETS="${*:-FuzzScenario FuzzPrometheus FuzzSSE FuzzJSON FuzzExpressions}"
BUILD=".build-fuzz"
# lld: gold fails on these binaries ("internal error in format_file_lineno").
FLAGS=(-c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
swift build --scratch-path "$BUILD" "${FLAGS[@]}" >&2
BIN="$(swift build --scratch-path "$BUILD" "${FLAGS[@]}" --show-bin-path)"

# Seed corpora: what the project itself reads.
seed() {
  local dir="corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr '/' '_')"; done
  return 0
}
seed FuzzScenario ../scenarios/*.yaml ../bench/scenarios/*.yaml
seed FuzzPrometheus ../Tests/CicadaTelemetryTests/Fixtures/prometheus/*
seed FuzzSSE ../Tests/CicadaCoreTests/Fixtures/*.sse
seed FuzzJSON ../Tests/CicadaTelemetryTests/Fixtures/*.json
printf '%s\n' 'p(99)<100ms' 'error_rate<1%' 'ttft.p(95)<=200ms' 'gpu_memory<90%' '1h30m' '250ms' \
  '{"input": "{{prompt}} {{uuid}} {{random_int(1,9)}}"}' '{{choice(a,b)}}' > corpus/expressions.txt
mkdir -p corpus/FuzzExpressions
i=0; while IFS= read -r line; do printf '%s' "$line" > "corpus/FuzzExpressions/seed$i"; i=$((i + 1)); done < corpus/expressions.txt
rm corpus/expressions.txt
if [ -z "$(ls corpus/FuzzSSE 2>/dev/null)" ]; then
  printf '\x05\x02data: {"choices":[{"text":"a"}]}\n\ndata: [DONE]\n\n' > corpus/FuzzSSE/seed0
fi
if [ -z "$(ls corpus/FuzzJSON 2>/dev/null)" ]; then
  printf '{"status":"ok","choices":[{"text":"x"}],"n":[1,2.5e3,-0,true,null]}' > corpus/FuzzJSON/seed0
fi

mkdir -p artifacts logs
fail=0
WORK="${FUZZ_WORK:-work}"
for t in $TARGETS; do
  mkdir -p "$WORK/$t"
  limit=(-max_total_time="$SECONDS_EACH")
  [ -n "${RUNS:-}" ] && limit=(-runs="$RUNS")
  set +e
  "$BIN/$t" "$WORK/$t" "corpus/$t" "${limit[@]}" -seed="${FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="artifacts/$t-" -print_final_stats=1 > "logs/$t.log" 2>&1
  rc=$?
  set -e
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)"
  if [ "$rc" -ne 0 ]; then
    fail=1
    echo "$t: FAILED after ${execs:-?} executions (exit $rc); input in fuzz/artifacts/, log fuzz/logs/$t.log"
    grep -m3 -E "ERROR|SUMMARY|Fatal|panic" "logs/$t.log" || true
  else
    echo "$t: ${execs:-?} executions, no crash"
  fi
done
exit "$fail"
