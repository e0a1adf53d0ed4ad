#!/usr/bin/env bash
# Every request on the wire counted once (issue 21): for each fault of `cicada target --faults`,
# alone and in rotation with `ok`, in the closed and the open model, runs Cicada headless and
# compares the requests the target says it received with Cicada's JSON (requests + cut_off),
# and each fault's count with the failures of the kind it must give. Then the same over
# HTTPS (HTTP/1.1 and HTTP/2) against nginx dropping every other request (`return 444`),
# counted from nginx's access log.
#
#   bench/wire-count.sh                     # 3 s per row
#   DURATION=10 bench/wire-count.sh
#   CICADA=.build/debug/cicada bench/wire-count.sh
#   TRANSPORT=fast bench/wire-count.sh      # the client for the fault rows: curl (default), fast, auto
#
# Output: bench/results/wire-<stamp>/table.md (also printed), raw JSON per row.
. "$(dirname "$0")/lib.sh"
DURATION="${DURATION:-3}"
# The fault rows' client (`cicada run --transport`). libcurl by default: it is the one that
# re-sends on its own, which the table exists to show refused; the fast client never re-sends.
TRANSPORT="${TRANSPORT:-curl}"
case "$TRANSPORT" in curl|fast|auto) ;; *) echo "TRANSPORT must be curl, fast or auto, not '$TRANSPORT'" >&2; exit 2 ;; esac
ensure_cicada
OUT="$RESULTS/wire-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
TABLE="$OUT/table.md"

kind_of() {
  case "$1" in
    ok) echo "-" ;;
    reset_before_status|reset_mid_body|close_after_headers|truncated_chunked|wrong_length) echo connection_reset ;;
    garbage) echo protocol_error ;;
    stall|trickle) echo timeout ;;
    429) echo rate_limited ;;
    503) echo http_5xx ;;
  esac
}

# One row: $1 faults, $2 model (closed|open).
row() {
  local faults="$1" model="$2" name log port json yaml tpid
  name="$(echo "$faults-$model" | tr ':,' '__')"
  log="$OUT/$name.target.log"; json="$OUT/$name.json"; yaml="$OUT/$name.yaml"
  "$CICADA" target --port 0 --faults "$faults" 2>"$log" &
  tpid=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$log" 2>/dev/null && break; sleep 0.05; done
  port="$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$log")"
  {
    echo "name: wire-$name"
    echo "target: http://127.0.0.1:$port"
    if [ "$model" = closed ]; then
      printf 'users: 8\nspawn_rate: 1000\nwait_time: constant(0.002)\n'
    else
      printf 'arrival: {rate: 300, max_in_flight: 32}\n'
    fi
    echo "run_time: ${DURATION}s"
    echo "timeouts: {connect: 1s, request: 500ms}"
    # Cicada scrapes the target's /metrics by default: traffic the target would count too.
    echo "telemetry: {gpu: none, scrape_target: false}"
    echo 'tasks: [{name: predict, path: /predict, json: {input: "x {{seq}}"}}]'
  } > "$yaml"
  "$CICADA" run "$yaml" --headless --quiet --json "$json" --workers 2 --stop-timeout 2s --transport "$TRANSPORT" >/dev/null 2>&1 || true
  kill -TERM "$tpid"; wait "$tpid" 2>/dev/null || true
  python3 - "$faults" "$model" "$log" "$json" >> "$TABLE" <<'PY'
import json, re, sys
faults, model, log, path = sys.argv[1:]
text = open(log).read()
m = re.search(r"received (\d+) requests \(([^)]*)\)", text)
received = int(m.group(1))
by_fault = {k: int(v) for k, v in (p.rsplit(" ", 1) for p in m.group(2).split(", ") if p)}
kinds = {"ok": None, "garbage": "protocol_error", "stall": "timeout", "trickle": "timeout", "429": "rate_limited", "503": "http_5xx"}
r = json.load(open(path))
t = r["totals"]
want = {}
for f, n in by_fault.items():
    k = kinds.get(f, "connection_reset")
    if k: want[k] = want.get(k, 0) + n
if r["cut_off"]: want["timeout"] = want.get("timeout", 0) - r["cut_off"]
got = {k: v for k, v in t["failures_by_kind"].items() if v}
want = {k: v for k, v in want.items() if v}
diff = t["requests"] + r["cut_off"] - received
ok = "yes" if diff == 0 and got == want else "NO"
kinds_txt = ", ".join(f"{k} {v}" for k, v in sorted(got.items())) or "-"
print(f"| `{faults}` | {model} | {received} | {t['requests']} | {r['cut_off']} | {diff:+d} | {kinds_txt} | {ok} |")
PY
}

{
  echo "Cicada $("$CICADA" --version) against \`cicada target --faults\`, ${DURATION} s per row, 2 workers, \`--transport $TRANSPORT\`; $(date -u +%Y-%m-%d), $(nproc) cores, libcurl $(curl-config --version | cut -d' ' -f2)."
  echo
  echo "| faults | model | target received | Cicada requests | cut off | difference | Cicada failures by kind | kinds match |"
  echo "|---|---|---|---|---|---|---|---|"
} > "$TABLE"
for f in reset_before_status reset_mid_body close_after_headers truncated_chunked wrong_length garbage stall trickle 429 503; do
  for model in closed open; do
    row "$f" "$model"
    row "$f:1,ok:1" "$model"
  done
done
all="ok:1,reset_before_status:1,reset_mid_body:1,close_after_headers:1,truncated_chunked:1,wrong_length:1,garbage:1,stall:1,trickle:1,429:1,503:1"
row "$all" closed
row "$all" open

# HTTPS against nginx, HTTP/1.1 and HTTP/2: every other request dropped with 444.
NG="$OUT/nginx"; mkdir -p "$NG"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$NG/key.pem" -out "$NG/cert.pem" -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
NPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$NG/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $NG/nginx.pid; error_log $NG/error.log;
events { worker_connections 1024; }
http {
  log_format proto '\$server_protocol \$status';
  access_log $NG/access.log proto;
  client_body_temp_path $NG; proxy_temp_path $NG; fastcgi_temp_path $NG; uwsgi_temp_path $NG; scgi_temp_path $NG;
  server {
    listen 127.0.0.1:$NPORT ssl http2;
    ssl_certificate $NG/cert.pem; ssl_certificate_key $NG/key.pem;
    keepalive_requests ${KEEPALIVE_REQUESTS:-100000};
    location / { return 200 "ok\n"; }
    location /drop { return 444; }
  }
}
CONF
nginx -c "$NG/nginx.conf" -p "$NG" &
NPID=$!
sleep 1
{
  echo
  echo "nginx $(nginx -v 2>&1 | sed 's#.*/##') over TLS, \`location /drop { return 444; }\` (no answer: HTTP/1.1 closes the connection, HTTP/2 resets the stream), keepalive_requests ${KEEPALIVE_REQUESTS:-100000}; 8 users alternating / and /drop, ${DURATION} s:"
  echo
  echo "| protocol | nginx logged | of them 444 | Cicada requests | cut off | difference | Cicada failures | match |"
  echo "|---|---|---|---|---|---|---|---|"
} >> "$TABLE"
for h2 in false true; do
  : > "$NG/access.log"; kill -USR1 "$(cat "$NG/nginx.pid")"; sleep 0.3
  y="$OUT/nginx-h2-$h2.yaml"
  printf 'name: nginx-drop\ntarget: https://127.0.0.1:%s\nhttp2: %s\ninsecure: true\nusers: 8\nspawn_rate: 1000\nrun_time: %ss\nwait_time: constant(0.005)\nflow: sequential\ntelemetry: {gpu: none, scrape_target: false}\ntasks: [{name: ok, path: /}, {name: drop, path: /drop}]\n' "$NPORT" "$h2" "$DURATION" > "$y"
  "$CICADA" run "$y" --headless --quiet --json "$OUT/nginx-h2-$h2.json" --workers 1 --stop-timeout 3s >/dev/null 2>&1 || true
  sleep 0.5
  python3 - "$h2" "$NG/access.log" "$OUT/nginx-h2-$h2.json" >> "$TABLE" <<'PY'
import json, sys
h2, log, path = sys.argv[1:]
lines = [l.split() for l in open(log) if l.strip()]
dropped = sum(1 for l in lines if l[1] == "444")
r = json.load(open(path)); t = r["totals"]
diff = t["requests"] + r["cut_off"] - len(lines)
ok = "yes" if diff == 0 and t["failures"] == dropped else "NO"
print(f"| {'HTTP/2' if h2 == 'true' else 'HTTP/1.1'} | {len(lines)} | {dropped} | {t['requests']} | {r['cut_off']} | {diff:+d} | {t['failures']} | {ok} |")
PY
done
kill -TERM "$NPID"; wait "$NPID" 2>/dev/null || true
cat "$TABLE"
