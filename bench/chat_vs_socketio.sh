#!/usr/bin/env bash
# Chat, issue 4 workload B1 (the paper's: 300 clients in one room, 10 msg/s each, 100-byte messages)
# against the Node.js Socket.IO 4 peer (bench/peers/socketio_chat.js), measured by our native
# bench/chat_loadgen, on 127.0.0.1 only. Server on cpu0, load generator on cpu1 (taskset).
#
#   bench/chat_vs_socketio.sh [--full] [--duration S] [--warmup S] [--clients N] [--threads T]
#                             [--loadgen BIN] [--chiron BIN]
#
# Runs, each against a freshly started server: B1 (--rate 10) and a lighter --rate 1 run.
# Default duration 20 s (B1 proper is 60 s: --full), warm-up 5 s (10 s with --full).
# Per run prints the load generator's line plus the server's CPU (utime+stime delta from
# /proc/PID/stat over the run, in cores) and peak RSS (VmHWM), and the load average.
# --chiron BIN: the chiron binary measured side by side (default build/apps/chiron if built).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=20 warmup=5 clients=300 threads=1
loadgen_bin=build/bench/chat_loadgen
chiron_bin=""
[[ -x build/apps/chiron ]] && chiron_bin=build/apps/chiron
while [[ $# -gt 0 ]]; do
  case "$1" in
    --full) duration=60 warmup=10; shift ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --loadgen) loadgen_bin=$2; shift 2 ;;
    --chiron) chiron_bin=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$loadgen_bin" ]] || { echo "missing $loadgen_bin: cmake --build build --target chat_loadgen" >&2; exit 2; }
command -v node >/dev/null || { echo "node is not installed" >&2; exit 2; }
[[ -d node_modules/socket.io ]] || { echo "node_modules/socket.io missing: npm ci" >&2; exit 2; }

source bench/lib.sh
bench_init
server_pid=""
stop_server() { [[ -n "$server_pid" ]] && stop_pid "$server_pid"; server_pid=""; }

# start_server NAME CMD... : starts it on cpu0, waits for "listening chat=…" (or http=), sets server_pid.
start_server() {
  local name=$1; shift
  start_bg "$name" '^listening (chat|http)=' "${server_cpu[@]}" "$@"
  server_pid=$bg_pid
}

# measure NAME PORT RATE : one load generator run against the running server; prints one line.
measure() {
  local name=$1 port=$2 rate=$3
  local t0 c0 t1 c1 line hwm
  t0=$(date +%s.%N) c0=$(cpu_ticks "$server_pid")
  line=$("${client_cpu[@]}" "$loadgen_bin" --port "$port" --clients "$clients" --rooms 1 --rate "$rate" \
    --size 100 --duration "$duration" --warmup "$warmup" --threads "$threads" --connect-rate 500)
  t1=$(date +%s.%N) c1=$(cpu_ticks "$server_pid")
  hwm=$(hwm_kb "$server_pid")
  printf '%-9s rate=%-3s %s server_cpu_cores=%.2f server_rss_hwm_mb=%.1f\n' "$name" "$rate" "$line" \
    "$(echo "($c1 - $c0) / $hz / ($t1 - $t0)" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
}

echo "# chat_vs_socketio: clients=$clients rooms=1 size=100 duration=${duration}s warmup=${warmup}s threads=$threads"
sio_version=$(node -p "require('./node_modules/socket.io/package.json').version")
echo "# $(uname -r), $(nproc) cpus, node $(node --version), socket.io $sio_version"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rate in 10 1; do
  port=$(free_port)
  start_server socketio node bench/peers/socketio_chat.js "$port"
  measure socketio "$port" "$rate"
  stop_server
  if [[ -n "$chiron_bin" ]]; then
    # chiron serve with one net thread (one core), anonymous posting as in the paper's harness.
    port=$(free_port)
    start_server chiron "$chiron_bin" serve --http "127.0.0.1:$port" --rtmp 127.0.0.1:0 --data "$tmp/chiron-data" \
      --ns off --chat-anonymous --net-threads 1 --log-level warn
    measure chiron "$port" "$rate"
    stop_server
  fi
  echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
