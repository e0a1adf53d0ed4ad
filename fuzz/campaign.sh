#!/usr/bin/env bash
# The long fuzzing runs behind RELIABILITY.md's figures (issue 12's 10 million executions per
# target), in chunks that add up across sittings: each chunk runs the target that has the fewest
# executions so far (ORDER=nearest: the one closest to GOAL) for CHUNK seconds or until it reaches
# GOAL, with a fresh seed, on the optimised build (FUZZ_CONFIG=release, same sanitizers), and
# appends one line to fuzz/logs/campaign.tsv:
#
#   date  target  seed  executions  exit  commit
#
# exit: 0 clean (its executions count), 1 failed (the campaign stops), 3 uncounted (the chunk
# ended clean but its log held no count; nothing is credited), 4 superseded (clean, but a later
# chunk of the target found a crash that was then fixed: the count starts again on the fixed
# code; set by hand when the fix lands).
#
# Chunks share each target's grown corpus in fuzz/work/, as libFuzzer's own -jobs do, so the
# sum over chunks is the campaign's count. The first chunk that fails (crash, sanitizer report,
# timeout, out of memory) stops the campaign; its input is in fuzz/artifacts/.
#
#   nice -n 19 fuzz/campaign.sh                 # until every target has GOAL executions
#   CHUNK=300 UNTIL=11:30 fuzz/campaign.sh      # 5-minute chunks, none started after 11:30
#   ORDER=nearest fuzz/campaign.sh              # finish targets one at a time, nearest the goal first
#   TARGETS="FuzzSSE FuzzJSON" fuzz/campaign.sh # only these (two campaigns on two cores: disjoint lists)
#   FUZZ_BUILT_AT=5025226 fuzz/campaign.sh      # the binaries already built (at that commit), no rebuild
#   GOAL=2616205 TARGETS=FuzzArtifact fuzz/campaign.sh   # a new ledger, and what an earlier one left
#   FUZZ_LOG_TAG=.b FUZZ_BUILT_AT=07eee45 TARGETS=FuzzReport fuzz/campaign.sh
#                     # a second campaign on a target one already runs: its own libFuzzer log, the
#                     # corpus shared; FUZZ_BUILT_AT so it does not rebuild under the first
#   fuzz/campaign.sh --totals                   # executions per target so far, this commit's and all
#
# A chunk stops at CHUNK seconds or when its target reaches GOAL, whichever comes first. Do not
# pause a campaign with SIGSTOP for longer than FUZZ_TIMEOUT: libFuzzer's per-input timeout is
# wall-clock time, so the input in flight would be reported as a timeout.
set -uo pipefail
# All in a function, read whole before it runs (see run.sh).
main() {
  cd "$(dirname "$0")"
  LEDGER="logs/campaign.tsv"
  case "${FUZZ_LOG_TAG:-}" in *[!A-Za-z0-9._-]*) echo "FUZZ_LOG_TAG may hold only letters, digits, '.', '_' and '-'" >&2; exit 2 ;; esac
  GOAL="${GOAL:-10000000}"
  CHUNK="${CHUNK:-600}"
  TARGETS="${TARGETS:-FuzzScenario FuzzPrometheus FuzzSSE FuzzJSON FuzzExpressions FuzzEngineRequest FuzzRESP FuzzHTTPResponse FuzzTrace FuzzArtifact FuzzReport}"
  mkdir -p logs
  touch "$LEDGER"

  # Executions so far of one target (successful chunks only), all commits.
  total() { awk -F'\t' -v t="$1" '$2 == t && $5 == 0 { s += $4 } END { print s + 0 }' "$LEDGER"; }

  if [ "${1:-}" = "--totals" ]; then
    printf '%-20s %14s %8s %s\n' target executions chunks commits
    for t in $TARGETS; do
      awk -F'\t' -v t="$t" '$2 == t { n++; if ($5 == 0) s += $4; else bad++; c[$6] = 1 }
        END { k = ""; for (x in c) k = k (k ? "," : "") x
              printf "%-20s %14d %8d %s%s\n", t, s, n, k, (bad ? "  FAILED OR UNCOUNTED CHUNKS: " bad : "") }' "$LEDGER"
    done
    exit 0
  fi

  # Build once, now: every chunk then fuzzes this commit's code (the ledger says which), however
  # the work tree moves meanwhile.
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  [ -n "$(git status --porcelain -- ../Sources ../Package.swift . 2>/dev/null)" ] && commit="$commit+changes"
  if [ -n "${FUZZ_BUILT_AT:-}" ]; then
    # FUZZ_BUILT_AT=COMMIT: go on with the binaries already built (at COMMIT, which the ledger
    # then names), e.g. to finish a target after the tree moved on, without rebuilding.
    commit="$FUZZ_BUILT_AT"
    export FUZZ_NO_BUILD=1
  fi
  FUZZ_CONFIG=release FUZZ_BUILD_ONLY=1 ./run.sh > /dev/null 2>&1 || { echo "the fuzz build failed" >&2; exit 1; }
  # Allocation stacks off: ASan's stack depot was the largest cost per execution (perf); a finding
  # is replayed with full stacks from its kept input.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0}"
  while :; do
    if [ -n "${UNTIL:-}" ] && [ "$(date +%H:%M)" \> "$UNTIL" ]; then echo "past $UNTIL: stopping"; break; fi
    # ORDER=fewest (default): the target with the fewest executions; nearest: the one closest to
    # GOAL (the highest count still below it), so targets finish one at a time.
    best=""; low=""
    for t in $TARGETS; do
      n="$(total "$t")"
      [ "$n" -lt "$GOAL" ] || continue
      if [ -z "$low" ] || { [ "${ORDER:-fewest}" = nearest ] && [ "$n" -gt "$low" ]; } || { [ "${ORDER:-fewest}" != nearest ] && [ "$n" -lt "$low" ]; }; then
        best="$t"; low="$n"
      fi
    done
    [ -z "$best" ] && { echo "every target has $GOAL executions"; break; }
    seed="$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
    line="$(FUZZ_NO_BUILD=1 FUZZ_CONFIG=release RUNS="$((GOAL - low))" FUZZ_MAX_SECONDS="$CHUNK" FUZZ_SEED="$seed" \
      FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-60}" ./run.sh "$best" 2>/dev/null | tail -1)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$best${FUZZ_LOG_TAG:-}.log" | tail -1)"
    case "$line" in *"no crash"*) rc=0 ;; *) rc=1 ;; esac
    # A clean chunk whose log holds no count (the log was emptied under it) is ledgered as
    # "uncounted" (exit column 3) and counts nothing: the ledger never credits executions it
    # cannot read back.
    [ "$rc" -eq 0 ] && [ -z "$execs" ] && rc=3
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$best" "$seed" "${execs:-0}" "$rc" "$commit" >> "$LEDGER"
    echo "$line"
    [ "$rc" -eq 3 ] && { echo "uncounted: fuzz/logs/$best${FUZZ_LOG_TAG:-}.log has no count; not credited"; continue; }
    [ "$rc" -ne 0 ] && { echo "stopped: $best failed; see fuzz/logs/$best${FUZZ_LOG_TAG:-}.log and fuzz/artifacts/"; exit 1; }
  done
}
# On one line: bash reads a line whole before it runs it, so an edit to this file while main
# runs cannot make it read a half line from the old offset when main returns.
main "$@"; exit
