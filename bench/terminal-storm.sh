#!/usr/bin/env bash
# Terminal storms (issue 12): RUNS dashboard runs in a tmux pane (120x40, a plain `sh`, so no
# line editor repairs the terminal behind Cicada's back), each against the embedded engine for
# 8 s, each hit mid-run by RESIZES window resizes in a burst (random sizes: 20x5, 1x1, a few
# cells, anything up to 210x63) with a SIGWINCH sent straight to Cicada every 4th one, then
# 20x5 and back to 120x40. One run in three is also sent SIGHUP at a random point of the storm,
# one in three has its terminal closed (tmux kill-session) after it.
#
# Counted as broken: a crash (killed by a signal, a Swift fatal error on stderr), a hang (alive
# 90 s after its end or its signal), a wrong exit code (0 when the run ended by itself, 105 after
# SIGHUP), a report missing, not parsing, not whole or with the wrong stop_reason, a temporary
# file left, a terminal left broken (stty -a in the pane shows -icanon, -echo, -icrnl, -opost,
# -onlcr or -isig; the typed line is not echoed or not run; the cursor hidden; the alternate
# screen still on), no "terminal too small" notice at 20x5, no dashboard back at 120x40.
#
#   bench/terminal-storm.sh            # 50 runs
#   RUNS=5 CICADA=.build/debug/cicada bench/terminal-storm.sh
#
# Output: bench/results/terminal-<stamp>/ (each run's files, stderr and captures), summary on stdout.
. "$(dirname "$0")/lib.sh"
RUNS="${RUNS:-50}"
RESIZES="${RESIZES:-200}"
SEED="${SEED:-$RANDOM}"
ensure_cicada
command -v tmux >/dev/null || { echo "tmux is needed" >&2; exit 1; }
OUT="$RESULTS/terminal-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
cat > "$OUT/s.yaml" <<'YAML'
name: terminal-storm
target: embedded
engine: {cache: {enabled: false}}
arrival: {rate: 40}
run_time: 8s
tasks: [{name: predict, kind: predict, prompt: "q {{uuid}}"}]
telemetry: {gpu: none}
YAML
RANDOM=$SEED
declare -A count=([ok]=0 [crash]=0 [hang]=0 [exit]=0 [report]=0 [terminal]=0 [tiny]=0 [back]=0)
modes=(storm sighup closed)
declare -A bymode=([storm]=0 [sighup]=0 [closed]=0)

# wait_pane SOCKET SECONDS PATTERN... : polls the pane until every pattern is on it.
wait_pane() {
  local sock=$1 limit=$2; shift 2
  local end=$((SECONDS + limit)) screen p all
  while :; do
    screen="$(tmux -L "$sock" capture-pane -p -t S 2>/dev/null || true)"
    all=1; for p in "$@"; do [[ "$screen" == *"$p"* ]] || { all=0; break; }; done
    [ $all = 1 ] && { printf '%s' "$screen"; return 0; }
    [ $SECONDS -ge $end ] && { printf '%s' "$screen"; return 1; }
    sleep 0.2
  done
}

# alive PID: the process exists and is not a zombie (its stat file gone counts as gone).
alive() { local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1; [[ "$s" != *") Z "* ]]; }

for i in $(seq 1 "$RUNS"); do
  d="$OUT/run$i"; mkdir -p "$d"
  sock="cicada-storm-$$-$i"
  mode=${modes[$((RANDOM % 3))]}
  bymode[$mode]=$((bymode[$mode] + 1))
  problems=()
  tmux -L "$sock" new-session -d -s S -x 120 -y 40 "env -u CI TERM=screen LANG=C.UTF-8 PS1='$ ' sh"
  sleep 0.3
  tmux -L "$sock" send-keys -t S "$CICADA run $OUT/s.yaml --json $d/r.json --csv $d/r --junit $d/r.xml 2>$d/stderr; echo \$? > $d/code" Enter
  wait_pane "$sock" 60 Aggregated predict > "$d/live.txt" || problems+=("no dashboard")
  pid="$(pgrep -f -- "--json $d/r.json" | head -1 || true)"
  [ -n "$pid" ] || { problems+=("no process"); pid=0; }
  hup_at=$([ "$mode" = sighup ] && echo $((RANDOM % RESIZES)) || echo -1)
  for k in $(seq 0 $((RESIZES - 1))); do
    case $((RANDOM % 6)) in
      0) w=20; h=5 ;;
      1) w=1; h=1 ;;
      2) w=$((1 + RANDOM % 10)); h=$((1 + RANDOM % 4)) ;;
      *) w=$((10 + RANDOM % 200)); h=$((3 + RANDOM % 60)) ;;
    esac
    tmux -L "$sock" resize-window -t S -x "$w" -y "$h"
    [ $((k % 4)) -eq 0 ] && kill -WINCH "$pid" 2>/dev/null || true
    [ "$k" -eq "$hup_at" ] && kill -HUP "$pid" 2>/dev/null || true
  done
  if [ "$mode" != sighup ]; then
    alive "$pid" || problems+=("died in the storm")
    tmux -L "$sock" resize-window -t S -x 20 -y 5
    wait_pane "$sock" 20 "terminal too small:" "need 80x24" > "$d/tiny.txt" || { problems+=("no notice at 20x5"); count[tiny]=$((count[tiny] + 1)); }
  fi
  tmux -L "$sock" resize-window -t S -x 120 -y 40
  if [ "$mode" != sighup ]; then
    # The dashboard again, whole (the header's clock and the requests table).
    if ! wait_pane "$sock" 20 Aggregated "/ 8s" > "$d/back.txt" || grep -q "too small" "$d/back.txt"; then
      alive "$pid" && { problems+=("no dashboard at 120x40"); count[back]=$((count[back] + 1)); }
    fi
  fi
  [ "$mode" = closed ] && tmux -L "$sock" kill-session -t S
  end=$((SECONDS + 90))
  while alive "$pid" && [ $SECONDS -lt $end ]; do sleep 0.2; done
  if alive "$pid"; then
    problems+=("hang"); count[hang]=$((count[hang] + 1))
    grep -qF "$d/r.json" "/proc/$pid/cmdline" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rc=""
  if [ "$mode" != closed ]; then
    for _ in $(seq 1 100); do [ -s "$d/code" ] && break; sleep 0.1; done
    rc="$(cat "$d/code" 2>/dev/null || true)"
    want=$([ "$mode" = sighup ] && echo 105 || echo 0)
    if [ -n "$rc" ] && [ "$rc" -ge 128 ]; then problems+=("killed by a signal: exit $rc"); count[crash]=$((count[crash] + 1))
    elif [ "$rc" != "$want" ]; then problems+=("exit '$rc', want $want"); count[exit]=$((count[exit] + 1)); fi
  fi
  if grep -qiE "fatal error|illegal instruction|segmentation|crash" "$d/stderr" 2>/dev/null; then
    problems+=("crash on stderr"); count[crash]=$((count[crash] + 1))
  fi
  want_reason=$([ "$mode" = storm ] && echo completed || echo interrupted)
  if ! python3 - "$d" "$want_reason" > "$d/report-check" 2>&1 <<'PY'
import csv, json, os, sys, xml.dom.minidom
d, want = sys.argv[1], sys.argv[2]
r = json.load(open(f"{d}/r.json"))
assert r["stop_reason"] == want, f"stop_reason {r['stop_reason']}, want {want}"
assert r["totals"]["requests"] > 0, "no requests"
xml.dom.minidom.parse(f"{d}/r.xml")
for f in ("r_stats.csv", "r_failures.csv", "r_stats_history.csv"):
    text = open(f"{d}/{f}").read()
    assert text.endswith("\n"), f"{f} not whole"
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) >= 1 and all(len(x) == len(rows[0]) for x in rows), f"{f} has a short row"
left = [f for f in os.listdir(d) if ".tmp-" in f or f.endswith(".partial")]
assert not left, left
PY
  then problems+=("report: $(tail -1 "$d/report-check")"); count[report]=$((count[report] + 1)); fi
  if [ "$mode" != closed ]; then
    tmux -L "$sock" send-keys -t S "stty -a > $d/stty; echo ok-\$((1+1))" Enter
    term_ok=1
    wait_pane "$sock" 20 'ok-2' '$((1+1))' > "$d/after.txt" || { term_ok=0; problems+=("the shell line was not echoed or run"); }
    for f in icanon echo icrnl opost onlcr isig; do
      grep -qE "(^|[ ;])$f([ ;]|$)" "$d/stty" 2>/dev/null || { term_ok=0; problems+=("-$f"); }
    done
    [ "$(tmux -L "$sock" display -p -t S '#{cursor_flag}')" = 1 ] || { term_ok=0; problems+=("cursor hidden"); }
    [ "$(tmux -L "$sock" display -p -t S '#{alternate_on}')" = 0 ] || { term_ok=0; problems+=("alternate screen on"); }
    [ $term_ok = 1 ] || count[terminal]=$((count[terminal] + 1))
  fi
  tmux -L "$sock" kill-server 2>/dev/null || true
  echo "$mode hup_at=$hup_at exit=$rc ${problems[*]:-ok}" > "$d/result"
  if [ ${#problems[@]} -eq 0 ]; then count[ok]=$((count[ok] + 1))
  else echo "run $i ($mode): ${problems[*]} (see $d)" >&2; fi
done
echo "terminal storm (seed $SEED): $RUNS runs (${bymode[storm]} storm only, ${bymode[sighup]} + SIGHUP, ${bymode[closed]} + terminal closed), $RESIZES resizes each;" \
  "clean: ${count[ok]}; crashes: ${count[crash]}, hangs: ${count[hang]}, wrong exit: ${count[exit]}, reports broken: ${count[report]}," \
  "terminals broken: ${count[terminal]}, no notice at 20x5: ${count[tiny]}, no dashboard back: ${count[back]}"
[ "${count[ok]}" -eq "$RUNS" ]
