#!/usr/bin/env bash
# Starts the benchmark nginx on 127.0.0.1:8088 (prefix bench/results/nginx), runs the given
# command (default: wait until Ctrl-C), and stops nginx when the command ends.
#   bench/with-nginx.sh                 # serve until Ctrl-C
#   bench/with-nginx.sh wrk -c64 -d5s http://127.0.0.1:8088/
. "$(dirname "$0")/lib.sh"
ensure_tools
raise_nofile
start_nginx
if [ $# -gt 0 ]; then "$@"; else log "Ctrl-C to stop"; while sleep 3600; do :; done; fi
