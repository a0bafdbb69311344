#!/usr/bin/env bash
# HTTP throughput: Chiron GET /api/v1/health vs nginx serving a static 2-byte
# body, both measured by wrk in the same invocation, on 127.0.0.1 only.
#
#   bench/http_vs_nginx.sh [SERVER_BIN] [-t THREADS] [-d DURATION] [-c CONNECTIONS] [-w WRK_THREADS] [-r RUNS]
#
# SERVER_BIN is either build*/bench/http_bench_server (the net layer alone) or
# build*/apps/chiron (run as "chiron serve --http 127.0.0.1:0"); both print
# "listening http=127.0.0.1:PORT". Default: the first http_bench_server found
# in build-http-bench/, build/. THREADS is the server's net threads and nginx's
# worker_processes (default 1: on a 2-core box wrk needs the other core).
# Runs RUNS (default 3) alternating wrk runs per server and prints every
# req/s figure, the medians and the ratio chiron/nginx.
set -euo pipefail
cd "$(dirname "$0")/.."

server_bin=""
threads=1
duration=5s
connections=64
wrk_threads=2
runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) threads=$2; shift 2 ;;
    -d) duration=$2; shift 2 ;;
    -c) connections=$2; shift 2 ;;
    -w) wrk_threads=$2; shift 2 ;;
    -r) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) server_bin=$1; shift ;;
  esac
done
if [[ -z "$server_bin" ]]; then
  for b in build-http-bench/bench/http_bench_server build/bench/http_bench_server; do
    [[ -x "$b" ]] && server_bin=$b && break
  done
fi
if [[ -z "$server_bin" || ! -x "$server_bin" ]]; then
  echo "no server binary (build http_bench_server with -DCHIRON_BENCH=ON, or pass apps/chiron)" >&2
  exit 2
fi
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done

tmp=$(mktemp -d)
server_pid=""
nginx_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# A free port for nginx: bind port 0, read it back, release it.
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$tmp/logs"
cat > "$tmp/nginx.conf" <<EOF
worker_processes $threads;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /api/v1/health { default_type application/json; return 200 '{}'; }
  }
}
EOF
nginx -c "$tmp/nginx.conf" -p "$tmp" -e "$tmp/logs/error.log" &
nginx_pid=$!

case "$(basename "$server_bin")" in
  chiron) "$server_bin" serve --http 127.0.0.1:0 --net-threads "$threads" --log-level warn >"$tmp/server.out" 2>"$tmp/server.err" & ;;
  *) "$server_bin" --threads "$threads" --http 127.0.0.1:0 >"$tmp/server.out" 2>"$tmp/server.err" & ;;
esac
server_pid=$!

chiron_port=""
for _ in $(seq 100); do
  chiron_port=$(sed -n 's/^listening http=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/server.out" | head -1)
  [[ -n "$chiron_port" ]] && break
  sleep 0.1
done
[[ -n "$chiron_port" ]] || { echo "server did not print its port"; cat "$tmp/server.err"; exit 1; }
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$nginx_port/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

chiron_url="http://127.0.0.1:$chiron_port/api/v1/health"
nginx_url="http://127.0.0.1:$nginx_port/api/v1/health"
rps() { wrk -t"$wrk_threads" -c"$connections" -d"$duration" "$1" | awk '/^Requests\/sec:/ {print $2}'; }

# Warm up both, then alternate runs so background load hits both alike.
wrk -t1 -c8 -d1s "$chiron_url" >/dev/null
wrk -t1 -c8 -d1s "$nginx_url" >/dev/null
chiron_runs=()
nginx_runs=()
for _ in $(seq "$runs"); do
  chiron_runs+=("$(rps "$chiron_url")")
  nginx_runs+=("$(rps "$nginx_url")")
done

echo "server: $server_bin (threads=$threads), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') (worker_processes=$threads)"
echo "wrk -t$wrk_threads -c$connections -d$duration, $runs runs each, alternating; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${chiron_runs[*]}" "${nginx_runs[*]}" <<'EOF'
import statistics, sys
c = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
fmt = lambda xs: " ".join(f"{x:>9.0f}" for x in xs)
print(f"chiron  GET /api/v1/health : {fmt(c)} req/s  (median {statistics.median(c):.0f})")
print(f"nginx   static 2-byte body : {fmt(n)} req/s  (median {statistics.median(n):.0f})")
print(f"ratio chiron/nginx         : {statistics.median(c) / statistics.median(n):.2f} (median), "
      f"{max(c) / max(n):.2f} (best)")
EOF
