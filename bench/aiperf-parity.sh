#!/usr/bin/env bash
# AIPerf (NVIDIA's LLM benchmarker, from PyPI) and Cicada side by side against the same
# `cicada serve` engine and the same load: streaming chat, closed loop at fixed concurrency,
# prompts of exactly ISL tokens and answers of exactly OSL tokens by the shipped cicada-tiny
# tokenizer (models/cicada-tiny, which both the engine and AIPerf count with). Prints TTFT, ITL,
# TPOT, E2E p50/p99, output tokens/s and requests/s in one Markdown table (docs/LLM-METRICS.md,
# "Parity with AIPerf").
#
#   bench/aiperf-parity.sh                         # concurrency 8 and 64, 20 s each
#   CONCURRENCY="8" DURATION=30 bench/aiperf-parity.sh
#   CICADA=.build/debug/cicada bench/aiperf-parity.sh
#
# Env: CICADA (default: release build in .build-bench, built if missing), CONCURRENCY ("8 64"),
# DURATION (s, 20), ISL (128), OSL (64), AIPERF_VERSION (0.13.0), SERVE_ARGS (engine flags,
# default "--scheduler continuous --gpu H100-SXM --model deepseek-llm-7b").
# .venv-aiperf/ (git-ignored) is built on first use: `pip install aiperf==AIPERF_VERSION`.
# AIPerf 0.13 loads a local tokenizer folder only when HF_HUB_OFFLINE is unset, so it is unset.
# Output: bench/results/aiperf-parity-<stamp>/ (both tools' raw output and reports, table.md).
. "$(dirname "$0")/lib.sh"
CONCURRENCY="${CONCURRENCY:-8 64}"
DURATION="${DURATION:-20}"
ISL="${ISL:-128}"
OSL="${OSL:-64}"
AIPERF_VERSION="${AIPERF_VERSION:-0.13.0}"
SERVE_ARGS="${SERVE_ARGS:---scheduler continuous --gpu H100-SXM --model deepseek-llm-7b}"
MODEL=deepseek-llm-7b
TOKENIZER="$ROOT/models/cicada-tiny"
VENV="$ROOT/.venv-aiperf"
unset HF_HUB_OFFLINE TRANSFORMERS_OFFLINE

if ! "$VENV/bin/aiperf" --version 2>/dev/null | grep -qx "$AIPERF_VERSION"; then
  log "building $VENV (pip install aiperf==$AIPERF_VERSION; several minutes)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aiperf==$AIPERF_VERSION"
fi
ensure_cicada

OUT="$RESULTS/aiperf-parity-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log "cicada serve on 127.0.0.1:$PORT ($SERVE_ARGS)"
"$CICADA" serve --host 127.0.0.1 --port "$PORT" $SERVE_ARGS 2>"$OUT/serve.log" &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$OUT/serve.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$OUT/serve.log" || { cat "$OUT/serve.log" >&2; exit 1; }
cat "$OUT/serve.log" >&2

log "prompts: 500 of exactly $ISL tokens (cicada-tiny)"
"$VENV/bin/python" "$BENCH/aiperf_parity.py" prompts "$TOKENIZER" "$ISL" 500 "$OUT/prompts.txt"

# CPU seconds (user + system) the engine process has used so far.
TICKS="$(getconf CLK_TCK)"
engine_cpu() { awk -v t="$TICKS" '{printf "%.2f", ($14 + $15) / t}' "/proc/$SERVE_PID/stat"; }
# Runs a client under /usr/bin/time; writes "client_cpu_s engine_cpu_s" for its run to $1.
measure() {
  local out="$1"; shift
  local before; before="$(engine_cpu)"
  /usr/bin/time -f "%U %S" -o "$out.time" "$@"
  local rc=$?
  awk -v b="$before" -v a="$(engine_cpu)" '{printf "%.2f %.2f\n", $1 + $2, a - b}' "$out.time" > "$out"
  return $rc
}

for C in $CONCURRENCY; do
  log "AIPerf $AIPERF_VERSION, concurrency $C, ${DURATION}s"
  (cd "$OUT" && measure "$OUT/cpu-aiperf-c$C.txt" "$VENV/bin/aiperf" profile --model "$MODEL" --url "http://127.0.0.1:$PORT" \
      --endpoint-type chat --streaming --tokenizer "$TOKENIZER" \
      --concurrency "$C" --benchmark-duration "$DURATION" --warmup-request-count "$C" \
      --isl "$ISL" --isl-stddev 0 --osl "$OSL" --osl-stddev 0 \
      --ui-type none --no-server-metrics --no-gpu-telemetry \
      --artifact-dir "$OUT/aiperf-c$C" >"$OUT/aiperf-c$C.log" 2>&1) || { tail -40 "$OUT/aiperf-c$C.log" >&2; log "AIPerf failed (log above)"; }

  log "Cicada, concurrency $C, ${DURATION}s"
  cat >"$OUT/cicada-c$C.yaml" <<YAML
name: aiperf-parity-c$C
target: http://127.0.0.1:$PORT
prompts: prompts.txt
users: $C
spawn_rate: 100000
run_time: ${DURATION}s
warmup: {requests: $C}
tasks:
  - name: chat
    kind: openai-chat
    model: $MODEL
    prompt: "{{prompt}}"
    max_tokens: $OSL
YAML
  measure "$OUT/cpu-cicada-c$C.txt" "$CICADA" run "$OUT/cicada-c$C.yaml" --headless --json "$OUT/cicada-c$C.json" >"$OUT/cicada-c$C.log" 2>&1 \
    || { tail -40 "$OUT/cicada-c$C.log" >&2; log "Cicada exited $?"; }
done

"$VENV/bin/python" "$BENCH/aiperf_parity.py" table "$OUT" | tee "$OUT/table.md"
log "results in $OUT"
