# Shared helpers for bench/*.sh. Source it: `. "$(dirname "$0")/lib.sh"`.
# Sets BENCH (bench dir), ROOT (repo root), RESULTS (bench/results), CICADA (binary), and
# provides ensure_tools, ensure_locust, start_nginx, stop_nginx, raise_nofile, machine_info.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
RESULTS="${RESULTS:-$BENCH/results}"
NGINX_PREFIX="$RESULTS/nginx"
NGINX_URL="http://127.0.0.1:8088"
mkdir -p "$RESULTS"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# apt packages: nginx, wrk, /usr/bin/time, and Cicada's build dependencies.
ensure_tools() {
  local missing="" p
  for p in nginx wrk time libcurl4-openssl-dev libncurses-dev pkg-config python3-venv; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    log "apt-get install$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq $missing >/dev/null
  fi
  # The Debian package starts a system nginx on :80; it does not touch :8088, so leave it.
}

# Cicada: $CICADA if set, else a release build in .build-bench (its own scratch path).
ensure_cicada() {
  if [ -z "${CICADA:-}" ]; then
    CICADA="$ROOT/.build-bench/release/cicada"
    if [ ! -x "$CICADA" ]; then
      log "building Cicada (release, --scratch-path .build-bench); takes a few minutes"
      (cd "$ROOT" && swift build -c release --scratch-path .build-bench >&2)
    fi
  fi
  [ -x "$CICADA" ] || { echo "CICADA=$CICADA is not an executable" >&2; exit 1; }
  export CICADA
}

# Locust in a virtualenv under bench/.venv, at the version pinned in bench/requirements-locust.txt
# (built, or rebuilt when the pin changed, as bench/aiperf-parity.sh builds .venv-aiperf).
ensure_locust() {
  LOCUST="$BENCH/.venv/bin/locust"
  local want; want="$(sed -n 's/^locust==//p' "$BENCH/requirements-locust.txt")"
  if ! "$LOCUST" --version 2>/dev/null | grep -q "^locust $want "; then
    log "building bench/.venv (pip install -r bench/requirements-locust.txt: locust==$want)"
    rm -rf "$BENCH/.venv"
    /usr/bin/python3 -m venv "$BENCH/.venv"
    "$BENCH/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$BENCH/requirements-locust.txt" >&2
  fi
  export LOCUST
}

# Open-files limit: 65536 where allowed, else the hard limit (containers may cap it).
raise_nofile() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  log "ulimit -n = $(ulimit -n)"
}

start_nginx() {
  mkdir -p "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
  stop_nginx
  nginx -p "$NGINX_PREFIX/" -c "$BENCH/nginx.conf" -t -q
  nginx -p "$NGINX_PREFIX/" -c "$BENCH/nginx.conf"
  trap 'stop_nginx' EXIT
  trap 'exit 130' INT TERM
  local i
  for i in $(seq 1 50); do
    if [ "$(curl -s "$NGINX_URL/" 2>/dev/null)" = "ok" ]; then
      log "nginx up on $NGINX_URL (pid $(cat "$NGINX_PREFIX/nginx.pid"))"
      return 0
    fi
    sleep 0.1
  done
  echo "nginx did not come up; see $NGINX_PREFIX/logs/error.log" >&2
  exit 1
}

stop_nginx() {
  if [ -f "$NGINX_PREFIX/nginx.pid" ]; then
    local pid; pid="$(cat "$NGINX_PREFIX/nginx.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      nginx -p "$NGINX_PREFIX/" -c "$BENCH/nginx.conf" -s stop 2>/dev/null || kill "$pid"
      local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "nginx stopped"
    fi
    rm -f "$NGINX_PREFIX/nginx.pid"
  fi
}

# Machine busy (all processes, user+system+irq+softirq) over $1 seconds, in % of one core.
machine_busy() {
  local a b
  a="$(awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, t-$5-$6}' /proc/stat)"
  sleep "${1:-2}"
  b="$(awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, t-$5-$6}' /proc/stat)"
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN{split(a,x," "); split(b,y," "); d=y[1]-x[1]; if (d<=0) d=1; printf "%.0f\n", (y[2]-x[2])/d*100*n}'
}

# Waits (up to QUIET_WAIT s, default 300) until the machine is idle (< QUIET_MAX % of one core,
# default 15) for 2 s, so another job on the shared cores does not distort a run. Warns and
# goes on when it stays busy; the busy figures are kept in each run's record.
wait_quiet() {
  local waited=0 busy
  while :; do
    busy="$(machine_busy 2)"
    [ "$busy" -le "${QUIET_MAX:-15}" ] && return 0
    if [ "$waited" -ge "${QUIET_WAIT:-300}" ]; then
      log "WARNING: machine still busy (${busy}% of one core) after ${waited}s; running anyway"
      return 0
    fi
    [ "$waited" -eq 0 ] && log "machine busy (${busy}% of one core, other processes:" \
      "$(ps -eo pcpu=,comm= --sort=-pcpu | head -3 | awk '{printf "%s %s%%; ", $2, $1}')); waiting"
    waited=$((waited + 2))
  done
}

# The machine, as one Markdown-friendly line.
machine_info() {
  local cpu mem
  cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  mem="$(free -g | awk '/^Mem:/{print $2}')"
  echo "$(nproc) cores ($cpu), ${mem} GiB RAM (free -g), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
}

# median of numbers on stdin (one per line)
median() { sort -g | awk '{a[NR]=$1} END{ if(NR==0){print "nan"; exit} if(NR%2){print a[(NR+1)/2]} else {printf "%.1f\n",(a[NR/2]+a[NR/2+1])/2} }'; }
