#!/usr/bin/env bash
# Streaming benchmark (issue 17): C concurrent OpenAI chat SSE streams held by Cicada (one worker,
# `--transport fast` and `--transport curl`) and by AIPerf, one after the other against the same
# schedule-keeping server (bench/streamserver.c: TTFT 200 ms, then one token every 20 ms, 64
# tokens), which measures its own lateness. Per tool, C and round it records: the streams in flight
# (the server's peak and time average), the client's TTFT and ITL p50/p99 (to compare with the
# schedule: 200 ms and 20 ms), client CPU (user+sys) per streamed token, client peak RSS, the
# server's lateness p50/p99/max and its own CPU per token (getrusage, from /lateness), and the
# 1-minute load average.
#
#   bench/streams.sh                                  # C = 64 1024 10000, 3 rounds, 10 s each
#   CONCURRENCY="64 1024" ROUNDS=3 DURATION=8 TOOLS="fast curl aiperf" bench/streams.sh
#   THREADS="1 2" CONCURRENCY=1024 TOOLS=fast bench/streams.sh   # a 1-thread and a 2-thread server, interleaved
#
# Env: CICADA (release build in .build-bench, built if missing), CONCURRENCY, ROUNDS, DURATION (s),
# TOOLS (fast curl aiperf), TTFT_MS (200), ITL_MS (20), TOKENS (64), SPAWN_RATE (users/s, 5000),
# THREADS (the server's threads, 1: one listener, epoll set and token heap each; several values,
# e.g. "1 2", start one server each, and every round runs each tool against each of them in turn).
# AIPerf comes from .venv-aiperf as bench/aiperf-parity.sh builds it (skipped when absent) and
# counts tokens with models/cicada-tiny. Output: bench/results/streams-<stamp>/ (raw client
# output, server lateness JSON per run, runs.tsv, table.md).
. "$(dirname "$0")/lib.sh"
CONCURRENCY="${CONCURRENCY:-64 1024 10000}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
TOOLS="${TOOLS:-fast curl aiperf}"
TTFT_MS="${TTFT_MS:-200}"; ITL_MS="${ITL_MS:-20}"; TOKENS="${TOKENS:-64}"
SPAWN_RATE="${SPAWN_RATE:-5000}"
THREADS="${THREADS:-1}"
VENV="$ROOT/.venv-aiperf"
unset HF_HUB_OFFLINE TRANSFORMERS_OFFLINE
ensure_cicada
raise_nofile

OUT="$RESULTS/streams-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
cc -O2 -pthread -o "$OUT/streamserver" "$BENCH/streamserver.c"
# one server per THREADS value: SERVER_PID[T], URL_OF[T]
declare -A SERVER_PID URL_OF
trap 'for p in "${SERVER_PID[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT
for T in $THREADS; do
  "$OUT/streamserver" 0 "$TTFT_MS" "$ITL_MS" "$TOKENS" "$T" >"$OUT/server-t$T.log" 2>&1 &
  SERVER_PID[$T]=$!
  for _ in $(seq 1 50); do grep -q "listening on" "$OUT/server-t$T.log" && break; sleep 0.1; done
  PORT="$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/server-t$T.log")"
  [ -n "$PORT" ] || { cat "$OUT/server-t$T.log" >&2; exit 1; }
  URL_OF[$T]="http://127.0.0.1:$PORT"
  log "server: $(cat "$OUT/server-t$T.log"), pid ${SERVER_PID[$T]}"
done
log "machine: $(machine_info)"
machine_info >"$OUT/machine.txt"
TICKS="$(getconf CLK_TCK)"
server_cpu() { awk -v t="$TICKS" '{printf "%.2f", ($14 + $15) / t}' "/proc/$SERVER_PID/stat"; }
printf 'tool\tC\tround\tload1\tclient_cpu_s\tmaxrss_kb\tserver_cpu_s\trc\tfile\tthreads\n' >"$OUT/runs.tsv"

run_one() { # tool C round threads
  local tool="$1" C="$2" r="$3" T="$4" base="$OUT/$1-c$2-r$3" rc=0 s0 load
  [ "$(wc -w <<<"$THREADS")" -gt 1 ] && base="$OUT/$1-t$4-c$2-r$3"
  local URL="${URL_OF[$T]}" SERVER_PID="${SERVER_PID[$T]}"
  curl -s "$URL/lateness" >/dev/null   # resets the server's window
  load="$(cut -d' ' -f1 /proc/loadavg)"; s0="$(server_cpu)"
  case "$tool" in
    fast|curl)
      cat >"$base.yaml" <<YAML
name: streams-$tool-c$C
target: $URL
users: $C
spawn_rate: $SPAWN_RATE
run_time: ${DURATION}s
tasks:
  - name: chat
    kind: openai-chat
    model: m
    prompt: "Say the word the sixty-four times."
    max_tokens: $TOKENS
YAML
      timeout -s INT -k 10 $((DURATION + 60)) /usr/bin/time -f "%U %S %M" -o "$base.time" "$CICADA" run "$base.yaml" --headless --workers 1 \
        --transport "$tool" --json "$base.json" >"$base.log" 2>&1 || rc=$?
      ;;
    aiperf)
      (cd "$OUT" && timeout -s INT -k 20 $((DURATION + ${AIPERF_GRACE:-150})) /usr/bin/time -f "%U %S %M" -o "$base.time" "$VENV/bin/aiperf" profile --model m --url "$URL" \
        --endpoint-type chat --streaming --tokenizer "$ROOT/models/cicada-tiny" \
        --concurrency "$C" --benchmark-duration "$DURATION" \
        --isl 16 --isl-stddev 0 --osl "$TOKENS" --osl-stddev 0 \
        --ui-type none --no-server-metrics --no-gpu-telemetry \
        --artifact-dir "$base.aiperf" >"$base.log" 2>&1) || rc=$?
      ;;
  esac
  curl -s "$URL/lateness" >"$base.lateness.json"
  local s1; s1="$(server_cpu)"
  read -r u s m < <(tail -n 1 "$base.time" 2>/dev/null) || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$C" "$r" "$load" \
    "$(awk -v u="${u:-0}" -v s="${s:-0}" 'BEGIN{printf "%.2f", u+s}')" "${m:-}" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN{printf "%.2f", b-a}')" "$rc" "$(basename "$base")" "$T" >>"$OUT/runs.tsv"
  log "$tool C=$C round $r server threads $T: rc=$rc load=$load $(cat "$base.lateness.json")"
}

for C in $CONCURRENCY; do
  rounds="$ROUNDS"; [ "$C" -ge 10000 ] && rounds="${ROUNDS_BIG:-1}"
  for r in $(seq 1 "$rounds"); do
    for T in $THREADS; do
      for tool in $TOOLS; do
        if [ "$tool" = aiperf ] && [ ! -x "$VENV/bin/aiperf" ]; then log "no $VENV: AIPerf skipped"; continue; fi
        run_one "$tool" "$C" "$r" "$T"
      done
    done
  done
done
python3 "$BENCH/streams_summary.py" "$OUT" "$TTFT_MS" "$ITL_MS" | tee "$OUT/table.md"
log "results in $OUT"
