#!/usr/bin/env bash
# Builds the libFuzzer targets (Swift's -sanitize=fuzzer with address sanitizer) and runs each
# for SECONDS_EACH seconds from a seed corpus made of the project's own scenarios and fixtures.
# Fails on the first crash, sanitizer report, timeout (a single input over FUZZ_TIMEOUT s, 10) or
# out-of-memory (2 GB); the input that did it is kept in fuzz/artifacts/ to become a test.
#
#   fuzz/run.sh                          # every target, 30 s each
#   SECONDS_EACH=600 fuzz/run.sh FuzzSSE # one target, longer
#   RUNS=10000000 fuzz/run.sh FuzzJSON   # a fixed number of executions instead of a time
#   FUZZ_CONFIG=release RUNS=10000000 fuzz/run.sh   # the long runs: optimised, same sanitizers
#   RUNS=30000 FUZZ_SEED=1 FUZZ_WORK=$(mktemp -d) fuzz/run.sh   # what CI runs: the same inputs every time
#
# Output: one line per target with its executions, then libFuzzer's own log in fuzz/logs/.
set -euo pipefail
# All in a function, read whole before it runs: a run.sh edited while a chunk runs cannot make
# the running bash read the new file from the old one's offsets (that emptied a log once).
main() {
  cd "$(dirname "$0")"
  SECONDS_EACH="${SECONDS_EACH:-30}"
  TARGETS="${*:-FuzzScenario FuzzPrometheus FuzzSSE FuzzJSON FuzzExpressions FuzzEngineRequest FuzzRESP FuzzHTTPResponse FuzzTrace FuzzArtifact FuzzReport}"
  # FUZZ_CONFIG=release: an optimised build (-O, overflow and bounds traps kept, as every Swift
  # release build keeps them) with the same sanitizers, for the long runs (fuzz/campaign.sh):
  # about 1.2-1.5x the executions a second of debug, since ASan and the coverage hooks dominate
  # (RELIABILITY.md). CI keeps the debug build.
  case "${FUZZ_LOG_TAG:-}" in *[!A-Za-z0-9._-]*) echo "FUZZ_LOG_TAG may hold only letters, digits, '.', '_' and '-'" >&2; exit 2 ;; esac
  CONFIG="${FUZZ_CONFIG:-debug}"
  case "$CONFIG" in debug|release) ;; *) echo "FUZZ_CONFIG must be debug or release, not '$CONFIG'" >&2; exit 2 ;; esac
  BUILD=".build-fuzz"
  [ "$CONFIG" = release ] && BUILD=".build-fuzz-release"
  # lld: gold fails on these binaries ("internal error in format_file_lineno").
  FLAGS=(-c "$CONFIG" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
  # FUZZ_NO_BUILD=1: run the binaries already built (fuzz/campaign.sh builds once, at its start,
  # so a campaign fuzzes one commit however the tree moves meanwhile).
  [ -z "${FUZZ_NO_BUILD:-}" ] && swift build --scratch-path "$BUILD" "${FLAGS[@]}" >&2
  BIN="$(swift build --scratch-path "$BUILD" "${FLAGS[@]}" --show-bin-path)"
  # FUZZ_BUILD_ONLY=1: build and stop (fuzz/campaign.sh's build step; it must not touch a log
  # another campaign's chunk is writing).
  [ -n "${FUZZ_BUILD_ONLY:-}" ] && return 0

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
  # (each run.sh its own list: two campaigns may seed at once)
  list="$(mktemp)"
  printf '%s\n' 'p(99)<100ms' 'error_rate<1%' 'ttft.p(95)<=200ms' 'gpu_memory<90%' '1h30m' '250ms' \
    '{"input": "{{prompt}} {{uuid}} {{random_int(1,9)}}"}' '{{choice(a,b)}}' > "$list"
  mkdir -p corpus/FuzzExpressions
  i=0; while IFS= read -r line; do printf '%s' "$line" > "corpus/FuzzExpressions/seed$i"; i=$((i + 1)); done < "$list"
  rm -f "$list"
  if [ -z "$(ls corpus/FuzzSSE 2>/dev/null)" ]; then
    printf '\x05\x02data: {"choices":[{"text":"a"}]}\n\ndata: [DONE]\n\n' > corpus/FuzzSSE/seed0
  fi
  # An Anthropic Messages stream (written every run, like the engine request seeds).
  printf '\x07\x03event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}\n\nevent: ping\ndata: {"type":"ping"}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":1}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n' > corpus/FuzzSSE/seed-anthropic
  # Engine requests: raw HTTP (first byte even) and bodies for a route (first byte odd, second the route).
  mkdir -p corpus/FuzzEngineRequest
  req() { printf '\x00%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s' "$1" "$2" "${#3}" "$3" > "corpus/FuzzEngineRequest/$4"; }
  req POST /predict '{"input": "hello", "priority": 1, "timeout_us": 5000}' raw-predict
  req POST /v1/chat/completions '{"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}}' raw-chat
  req PUT /admin/batching '{"maxBatchSize": 8, "preferredBatchSizes": [4, 8], "maxQueueDelayMicros": 2000}' raw-admin
  printf '\x00GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n' > corpus/FuzzEngineRequest/raw-pipelined
  printf '\x01\x00{"input": "x", "priority": 3}' > corpus/FuzzEngineRequest/body-predict
  printf '\x01\x01{"prompt": ["p"], "max_tokens": 8, "temperature": 0.5, "stop": ["\\n"]}' > corpus/FuzzEngineRequest/body-completions
  printf '\x01\x02{"messages": [{"role": "system", "content": "a"}, {"content": "b"}], "max_completion_tokens": 3}' > corpus/FuzzEngineRequest/body-chat
  printf '\x01\x03{"maxBatchSize": 64, "preferredBatchSizes": [], "maxQueueDelayMicros": 0, "instanceCount": 2}' > corpus/FuzzEngineRequest/body-admin
  req POST /v1/messages '{"model": "m", "max_tokens": 5, "stream": true, "system": [{"type": "text", "text": "s"}], "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}' raw-messages
  req GET /v1/models/org%2Fname '' raw-model
  printf '\x00GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nConnection: close\r\n\r\n' > corpus/FuzzEngineRequest/raw-models
  printf '\x01\x08{"model": "m", "max_tokens": 3, "messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": [{"type": "tool_result", "content": "r"}]}]}' > corpus/FuzzEngineRequest/body-messages
  # Trace replay files: the project's own sample, and a plain-form trace.
  seed FuzzTrace ../scenarios/prompts/*.jsonl
  printf '{"timestamp": 0, "prompt": "hi", "output_length": 8}\n{"timestamp": 250, "input_length": 600, "output_length": 4, "hash_ids": [1, 2]}\n' > corpus/FuzzTrace/seed-plain
  # Redis replies (the engine's level-2 cache): the first byte sets the feeding step.
  mkdir -p corpus/FuzzRESP
  printf '\x03+OK\r\n$5\r\nhello\r\n$-1\r\n:42\r\n-ERR x\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n*-1\r\n' > corpus/FuzzRESP/seed-replies
  printf '\x00$11\r\n{"o":"ab"}\n\r\n' > corpus/FuzzRESP/seed-bulk
  if [ -z "$(ls corpus/FuzzJSON 2>/dev/null)" ]; then
    printf '{"status":"ok","choices":[{"text":"x"}],"n":[1,2.5e3,-0,true,null]}' > corpus/FuzzJSON/seed0
  fi

  # HTTP/1.1 responses: the first byte is the split length, the second the flags (1 HEAD, 2 close).
  mkdir -p corpus/FuzzHTTPResponse
  printf '\x07\x00HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"output":1}' > corpus/FuzzHTTPResponse/length
  printf '\x03\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n' > corpus/FuzzHTTPResponse/chunked
  printf '\x05\x02HTTP/1.0 200 OK\r\n\r\nuntil the close' > corpus/FuzzHTTPResponse/close
  printf '\x09\x01HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n' > corpus/FuzzHTTPResponse/head
  printf '\x02\x00HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\ndata: {"choices":[{}]}\n\n\r\n0\r\n\r\n' > corpus/FuzzHTTPResponse/sse

  # Shard artifacts and /live states (first byte even: an artifact, odd: a state), as a 3 s run of
  # `cicada run --shard 0/2 --out DIR --status-port P` against `cicada target --faults
  # ok:8,503:1,reset_mid_body:1` wrote and served them (fuzz/seeds/).
  mkdir -p corpus/FuzzArtifact
  cp seeds/FuzzArtifact/* corpus/FuzzArtifact/
  # JSON reports (`--json`) of the quickstart and the canary split, 3 s each against the embedded
  # engine; first byte even: the HTML page, odd: `cicada diff`.
  mkdir -p corpus/FuzzReport
  cp seeds/FuzzReport/* corpus/FuzzReport/

  mkdir -p artifacts logs
  fail=0
  WORK="${FUZZ_WORK:-work}"
  for t in $TARGETS; do
    mkdir -p "$WORK/$t"
    # Artifacts carry base64 histograms: their seeds are ~10 KB.
    maxlen=8192; [ "$t" = FuzzArtifact ] || [ "$t" = FuzzReport ] && maxlen=32768
    limit=(-max_total_time="$SECONDS_EACH")
    [ -n "${RUNS:-}" ] && limit=(-runs="$RUNS")
    # RUNS with FUZZ_MAX_SECONDS: whichever comes first (fuzz/campaign.sh stops a target at its goal).
    [ -n "${RUNS:-}" ] && [ -n "${FUZZ_MAX_SECONDS:-}" ] && limit+=(-max_total_time="$FUZZ_MAX_SECONDS")
    set +e
    "$BIN/$t" "$WORK/$t" "corpus/$t" "${limit[@]}" -seed="${FUZZ_SEED:-0}" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len="$maxlen" \
      -artifact_prefix="artifacts/$t-" -print_final_stats=1 > "logs/$t${FUZZ_LOG_TAG:-}.log" 2>&1
    rc=$?
    set -e
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t${FUZZ_LOG_TAG:-}.log" | tail -1)"
    if [ "$rc" -ne 0 ]; then
      fail=1
      echo "$t: FAILED after ${execs:-?} executions (exit $rc); input in fuzz/artifacts/, log fuzz/logs/$t${FUZZ_LOG_TAG:-}.log"
      grep -m3 -E "ERROR|SUMMARY|Fatal|panic" "logs/$t${FUZZ_LOG_TAG:-}.log" || true
    else
      echo "$t: ${execs:-?} executions, no crash"
    fi
  done
  return "$fail"
}
# On one line: bash reads a line whole before it runs it, so an edit to this file while main
# runs cannot make it read a half line from the old offset when main returns.
main "$@"; exit
